//! Two tunnel ends back to back on one virtual clock: "aws" (the cloud's
//! responder, 198.51.100.1, inside 169.254.10.1) and "cgw" (an emulated
//! customer gateway, initiator, 203.0.113.2, inside .2), each with a BGP
//! router core. The wire is lossless and instant; tests cut it, tamper
//! with it or put a NAT on it.

#![allow(dead_code)]

use bytes::Bytes;
use hybridlab_bgp::packet::{AsPath, Origin, PathAttributes, Prefix};
use hybridlab_bgp::router::{PeerConfig as BgpPeer, PeerId, Router, RouterConfig, RouterOutput};
use hybridlab_bgp::session::{
    DownReason, SessionConfig, SessionInput, SessionOutput, State, TimerKind,
};
use hybridlab_ike::{PeerConfig, Psk, SeededRandom};
use hybridlab_ipsec_tunnel::{IpsecTunnel, TunnelConfig, TunnelEvent, TunnelInput, TunnelOutput};
use hybridlab_tunnel_ip::TunnelIpConfig;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr};
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

pub const AWS: usize = 0;
pub const CGW: usize = 1;
pub const AWS_OUTSIDE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const CGW_OUTSIDE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
pub const AWS_INSIDE: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 1);
pub const CGW_INSIDE: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 2);
pub const VPC_HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 5, 9);
pub const PSK: &str = "aws4lab_psk_0123456789abcdefghij";

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub struct End {
    pub tunnel: IpsecTunnel,
    pub router: Router,
    pub peer: PeerId,
    pub bgp_timers: BTreeMap<TimerKind, Duration>,
    pub pending: VecDeque<TunnelInput>,
    pub events: Vec<(Duration, TunnelEvent)>,
    pub inner: Vec<(Duration, Bytes)>,
    pub bgp_downs: Vec<(Duration, DownReason)>,
    pub bgp_established: Vec<Duration>,
    /// Plain-ESP outputs (there should be none between two hybridlab ends).
    pub raw_esp: u64,
}

impl End {
    pub fn bgp_state(&self) -> State {
        self.router.session(self.peer).unwrap().state()
    }

    pub fn learned(&self, prefix: &str) -> Option<IpAddr> {
        self.router
            .best_route(&prefix.parse::<Prefix>().unwrap())?
            .peer_address
    }

    pub fn saw(&self, e: &TunnelEvent) -> Option<Duration> {
        self.events.iter().find(|(_, x)| x == e).map(|(t, _)| *t)
    }

    pub fn errors(&self) -> Vec<(Duration, String)> {
        self.events
            .iter()
            .filter_map(|(t, e)| match e {
                TunnelEvent::Error(s) => Some((*t, s.clone())),
                _ => None,
            })
            .collect()
    }
}

/// A NAT in front of cgw: cgw's private address goes out as `public`
/// with one port per inside port.
pub struct Nat {
    pub private: Ipv4Addr,
    pub public: Ipv4Addr,
    pub ports: BTreeMap<u16, u16>,
}

pub struct Pinger {
    pub every: Duration,
    pub next_at: Duration,
    pub next_seq: u16,
    pub sent: u64,
    pub until: Duration,
}

pub struct Lab {
    pub now: Duration,
    pub ends: [End; 2],
    pub conn_ids: u64,
    /// Datagrams sent by end i are lost while `cut[i]`.
    pub cut: [bool; 2],
    /// Every datagram put on the wire: when, sender, from, to, bytes.
    pub captured: Vec<(Duration, usize, SocketAddr, SocketAddr, Bytes)>,
    wire: VecDeque<(usize, SocketAddr, SocketAddr, Bytes)>,
    /// IKE datagrams held back from their receiver until the instant.
    delayed: Vec<(Duration, usize, SocketAddr, SocketAddr, Bytes)>,
    ike_delay: [Duration; 2],
    pub nat: Option<Nat>,
    pub pinger: Option<Pinger>,
    start_bgp: bool,
}

pub struct Options {
    pub aws_ike: PeerConfig,
    pub cgw_ike: PeerConfig,
    pub hold_time: u16,
    pub cgw_private: Option<Ipv4Addr>,
    pub start_bgp: bool,
    /// How late end i reads IKE datagrams while its ESP is read at once:
    /// a daemon whose IKE thread lags its ESP path (strongSwan with
    /// kernel-libipsec).
    pub ike_delay: [Duration; 2],
}

impl Options {
    pub fn new() -> Self {
        let aws = SocketAddr::new(AWS_OUTSIDE.into(), 500);
        let cgw = SocketAddr::new(CGW_OUTSIDE.into(), 500);
        let aws_ike = PeerConfig::cloud(aws, cgw, Psk::new(PSK));
        let mut cgw_ike = PeerConfig::customer(cgw, aws, Psk::new(PSK));
        // Between two hybridlab ends: ESP in UDP 4500, no raw socket.
        cgw_ike.force_encapsulation = true;
        Options {
            aws_ike,
            cgw_ike,
            hold_time: 30,
            cgw_private: None,
            start_bgp: true,
            ike_delay: [Duration::ZERO; 2],
        }
    }
}

fn router(
    name: &str,
    asn: u32,
    remote_as: u32,
    local: Ipv4Addr,
    hold: u16,
    seed: u64,
) -> (Router, PeerId) {
    let mut router = Router::new(
        RouterConfig {
            name: name.into(),
            asn,
            router_id: local,
            always_compare_med: false,
            export_mode: Default::default(),
        },
        seed,
    );
    let mut session = SessionConfig::new(asn, remote_as, local);
    session.hold_time = hold;
    session.jitter = false;
    let peer = router.add_peer(BgpPeer {
        name: format!("{name}-peer"),
        session,
        next_hop6: None,
        import: Default::default(),
        export: Default::default(),
        max_prefix: BTreeMap::new(),
    });
    (router, peer)
}

#[allow(clippy::too_many_arguments)]
fn end(
    name: &str,
    ike: PeerConfig,
    inside: Ipv4Addr,
    bgp_peer: Ipv4Addr,
    asn: u32,
    remote_as: u32,
    hold: u16,
    seed: u64,
) -> End {
    let mut ip = TunnelIpConfig::new(inside);
    ip.answer_ping_for = vec!["10.0.5.0/24".parse().unwrap()];
    let mut config = TunnelConfig::new(format!("vpn1/{name}"), ike, ip, bgp_peer);
    config.seed = seed;
    let tunnel = IpsecTunnel::new(config, Box::new(SeededRandom::new(seed))).unwrap();
    let (router, peer) = router(name, asn, remote_as, inside, hold, seed);
    End {
        tunnel,
        router,
        peer,
        bgp_timers: BTreeMap::new(),
        pending: VecDeque::new(),
        events: Vec::new(),
        inner: Vec::new(),
        bgp_downs: Vec::new(),
        bgp_established: Vec::new(),
        raw_esp: 0,
    }
}

impl Lab {
    pub fn new(mut o: Options) -> Lab {
        let nat = o.cgw_private.map(|private| {
            o.cgw_ike.local = SocketAddr::new(private.into(), 500);
            Nat {
                private,
                public: CGW_OUTSIDE,
                ports: BTreeMap::from([(500, 61_500), (4500, 64_500)]),
            }
        });
        let aws = end(
            "aws",
            o.aws_ike,
            AWS_INSIDE,
            CGW_INSIDE,
            64512,
            65000,
            o.hold_time,
            11,
        );
        let cgw = end(
            "cgw",
            o.cgw_ike,
            CGW_INSIDE,
            AWS_INSIDE,
            65000,
            64512,
            o.hold_time,
            22,
        );
        let mut lab = Lab {
            now: Duration::ZERO,
            ends: [aws, cgw],
            conn_ids: 0,
            cut: [false; 2],
            captured: Vec::new(),
            wire: VecDeque::new(),
            delayed: Vec::new(),
            ike_delay: o.ike_delay,
            nat,
            pinger: None,
            start_bgp: o.start_bgp,
        };
        lab.announce(AWS, "10.0.0.0/16");
        lab.announce(CGW, "192.168.0.0/16");
        lab
    }

    pub fn announce(&mut self, i: usize, prefix: &str) {
        let attrs = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([])),
            ..PathAttributes::default()
        };
        let mut out = Vec::new();
        self.ends[i]
            .router
            .announce(prefix.parse::<Prefix>().unwrap(), attrs, &mut out);
        self.router_outputs(i, out);
        self.settle(i);
    }

    /// Both tunnels and both routers start.
    pub fn start(&mut self) {
        for i in [AWS, CGW] {
            let mut out = Vec::new();
            self.ends[i].tunnel.start(self.now, &mut out);
            self.tunnel_outputs(i, out);
            if self.start_bgp {
                let mut rout = Vec::new();
                self.ends[i].router.start(&mut rout);
                self.router_outputs(i, rout);
            }
            self.settle(i);
        }
    }

    /// Hands `input` to end `i` now and runs what follows.
    pub fn input(&mut self, i: usize, input: TunnelInput) {
        self.ends[i].pending.push_back(input);
        self.settle(i);
    }

    fn settle(&mut self, i: usize) {
        while let Some(input) = self.ends[i].pending.pop_front() {
            let mut out = Vec::new();
            let ids = &mut self.conn_ids;
            let mut next = || {
                *ids += 1;
                *ids
            };
            self.ends[i]
                .tunnel
                .handle(self.now, input, &mut next, &mut out);
            self.tunnel_outputs(i, out);
        }
    }

    fn tunnel_outputs(&mut self, i: usize, out: Vec<TunnelOutput>) {
        let now = self.now;
        for o in out {
            match o {
                TunnelOutput::Udp { from, to, bytes } => self.send(i, from, to, bytes),
                TunnelOutput::Esp { .. } => self.ends[i].raw_esp += 1,
                TunnelOutput::Bgp(input) => {
                    let e = &mut self.ends[i];
                    let mut rout = Vec::new();
                    e.router.handle(e.peer, input, &mut rout);
                    self.router_outputs(i, rout);
                }
                TunnelOutput::Inner(b) => self.ends[i].inner.push((now, b)),
                TunnelOutput::Event(e) => self.ends[i].events.push((now, e)),
            }
        }
    }

    fn router_outputs(&mut self, i: usize, out: Vec<RouterOutput>) {
        let now = self.now;
        let e = &mut self.ends[i];
        for o in out {
            match o.action {
                SessionOutput::StartTimer { timer, after } => {
                    e.bgp_timers.insert(timer, now + after);
                }
                SessionOutput::StopTimer(timer) => {
                    e.bgp_timers.remove(&timer);
                }
                SessionOutput::Down(reason) => e.bgp_downs.push((now, reason)),
                SessionOutput::Established(_) => e.bgp_established.push(now),
                action @ (SessionOutput::Connect
                | SessionOutput::Send { .. }
                | SessionOutput::Close { .. }) => e.pending.push_back(TunnelInput::Bgp(action)),
                _ => {}
            }
        }
    }

    /// Puts a datagram on the wire, through the NAT if there is one.
    fn send(&mut self, i: usize, mut from: SocketAddr, mut to: SocketAddr, bytes: Bytes) {
        if let Some(nat) = &self.nat {
            if i == CGW && from.ip() == IpAddr::V4(nat.private) {
                let port = nat.ports.get(&from.port()).copied().unwrap_or(from.port());
                from = SocketAddr::new(nat.public.into(), port);
            }
            if i == AWS && to.ip() == IpAddr::V4(nat.public) {
                if let Some((&inside, _)) = nat.ports.iter().find(|(_, &p)| p == to.port()) {
                    to = SocketAddr::new(nat.private.into(), inside);
                }
            }
        }
        self.captured.push((self.now, i, from, to, bytes.clone()));
        if self.cut[i] {
            return;
        }
        let receiver = 1 - i;
        // RFC 3948 §2.2: on 4500, IKE behind the four-zero non-ESP marker.
        let ike = to.port() == 500 || (bytes.len() > 4 && bytes[..4] == [0; 4]);
        let delay = self.ike_delay[receiver];
        if ike && !delay.is_zero() {
            self.delayed
                .push((self.now + delay, receiver, from, to, bytes));
        } else {
            self.wire.push_back((receiver, from, to, bytes));
        }
    }

    /// Everything due at `now`, until nothing moves.
    fn step(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            let now = self.now;
            let (due, later): (Vec<_>, Vec<_>) = self.delayed.drain(..).partition(|d| d.0 <= now);
            self.delayed = later;
            for (_, to_end, from, to, bytes) in due {
                self.wire.push_back((to_end, from, to, bytes));
            }
            while let Some((to_end, from, to, bytes)) = self.wire.pop_front() {
                moved = true;
                self.input(to_end, TunnelInput::Udp { from, to, bytes });
            }
            for i in [AWS, CGW] {
                if self.ends[i]
                    .tunnel
                    .next_deadline()
                    .is_some_and(|at| at <= self.now)
                {
                    moved = true;
                    self.input(i, TunnelInput::Tick);
                }
                let due: Vec<TimerKind> = self.ends[i]
                    .bgp_timers
                    .iter()
                    .filter(|(_, at)| **at <= self.now)
                    .map(|(k, _)| *k)
                    .collect();
                for timer in due {
                    moved = true;
                    self.ends[i].bgp_timers.remove(&timer);
                    let e = &mut self.ends[i];
                    let mut rout = Vec::new();
                    e.router
                        .handle(e.peer, SessionInput::TimerExpired(timer), &mut rout);
                    self.router_outputs(i, rout);
                    self.settle(i);
                }
            }
            if let Some(p) = &mut self.pinger {
                if p.next_at <= self.now && p.next_at <= p.until {
                    let seq = p.next_seq;
                    p.next_seq = p.next_seq.wrapping_add(1);
                    p.sent += 1;
                    p.next_at += p.every;
                    moved = true;
                    self.input(
                        CGW,
                        TunnelInput::Inner(echo_request(CGW_INSIDE, VPC_HOST, seq)),
                    );
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the lab did not settle at {:?}", self.now);
    }

    fn next_deadline(&self) -> Option<Duration> {
        let mut all: Vec<Duration> = Vec::new();
        for e in &self.ends {
            all.extend(e.tunnel.next_deadline());
            all.extend(e.bgp_timers.values().copied());
        }
        all.extend(self.delayed.iter().map(|d| d.0));
        if let Some(p) = &self.pinger {
            if p.next_at <= p.until {
                all.push(p.next_at);
            }
        }
        all.into_iter().min()
    }

    pub fn run_until(&mut self, until: Duration) {
        loop {
            self.step();
            match self.next_deadline() {
                Some(at) if at <= until => {
                    // A deadline already passed means "at once"; step a
                    // millisecond so a stack that keeps asking cannot stall.
                    self.now = if at > self.now { at } else { self.now + ms(1) };
                }
                _ => {
                    self.now = until.max(self.now);
                    self.step();
                    return;
                }
            }
        }
    }

    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    pub fn ping_every(&mut self, every: Duration, for_: Duration) {
        self.pinger = Some(Pinger {
            every,
            next_at: self.now,
            next_seq: 1,
            sent: 0,
            until: self.now + for_,
        });
    }

    /// Echo replies cgw got back, by sequence number.
    pub fn replies(&self) -> Vec<u16> {
        self.ends[CGW]
            .inner
            .iter()
            .filter_map(|(_, p)| echo_reply_seq(p, VPC_HOST, CGW_INSIDE))
            .collect()
    }
}

pub fn echo_request(src: Ipv4Addr, dst: Ipv4Addr, seq: u16) -> Bytes {
    let caps = ChecksumCapabilities::default();
    let data = [0x5au8; 56];
    let icmp = Icmpv4Repr::EchoRequest {
        ident: 0x4242,
        seq_no: seq,
        data: &data,
    };
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        hop_limit: 64,
    };
    let mut buf = vec![0u8; ip.buffer_len() + icmp.buffer_len()];
    let mut packet = Ipv4Packet::new_unchecked(&mut buf[..]);
    ip.emit(&mut packet, &caps);
    let mut message = Icmpv4Packet::new_unchecked(packet.payload_mut());
    icmp.emit(&mut message, &caps);
    Bytes::from(buf)
}

pub fn echo_reply_seq(packet: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Option<u16> {
    let caps = ChecksumCapabilities::default();
    let ip = Ipv4Packet::new_checked(packet).ok()?;
    let repr = Ipv4Repr::parse(&ip, &caps).ok()?;
    if repr.src_addr != src || repr.dst_addr != dst {
        return None;
    }
    let icmp = Icmpv4Packet::new_checked(ip.payload()).ok()?;
    match Icmpv4Repr::parse(&icmp, &caps).ok()? {
        Icmpv4Repr::EchoReply {
            ident: 0x4242,
            seq_no,
            ..
        } => Some(seq_no),
        _ => None,
    }
}

/// The datagrams `sender` put on the wire that are ESP in UDP.
pub fn esp_datagrams(lab: &Lab, sender: usize) -> Vec<(SocketAddr, SocketAddr, Bytes)> {
    lab.captured
        .iter()
        .filter(|(_, s, from, _, b)| {
            *s == sender && from.port() != 500 && b.len() > 8 && b[..4] != [0, 0, 0, 0]
        })
        .map(|(_, _, f, t, b)| (*f, *t, b.clone()))
        .collect()
}
