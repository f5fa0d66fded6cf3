//! Two sans-IO BGP routers (the cloud's VGW speaker and a customer
//! gateway) establish their session over two tunnel endpoints, as they do
//! over a VPN tunnel's inside addresses: TCP from smoltcp, BGP from
//! `hybridlab_bgp`, everything on one virtual clock.

use bytes::{Bytes, BytesMut};
use hybridlab_bgp::packet::{AsPath, Origin, PathAttributes, Prefix};
use hybridlab_bgp::router::{PeerConfig, PeerId, Router, RouterConfig, RouterOutput};
use hybridlab_bgp::session::{
    ConnId, SessionConfig, SessionInput, SessionOutput, State, TimerKind,
};
use hybridlab_esp::{Cipher, Integrity, SaParams, SecurityAssociation, NEXT_HEADER_IPV4};
use hybridlab_tunnel_ip::{BgpTransport, TunnelIp, TunnelIpConfig};
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const CLOUD: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 1);
const CUSTOMER: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 2);

/// One end of the tunnel: a router core with its one peer, the endpoint
/// and the transport between them, and the core's timers.
struct End {
    router: Router,
    peer: PeerId,
    ip: TunnelIp,
    transport: BgpTransport,
    timers: BTreeMap<TimerKind, Duration>,
    inputs: VecDeque<SessionInput>,
}

impl End {
    fn new(
        name: &str,
        asn: u32,
        remote_as: u32,
        local: Ipv4Addr,
        remote: Ipv4Addr,
        seed: u64,
    ) -> Self {
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
        // AWS's tunnels: hold time 30 s, keepalive 10 s.
        session.hold_time = 30;
        session.jitter = false;
        let peer = router.add_peer(PeerConfig {
            name: format!("{name}-peer"),
            session,
            next_hop6: None,
            import: Default::default(),
            export: Default::default(),
            max_prefix: BTreeMap::new(),
        });
        let mut config = TunnelIpConfig::new(local);
        config.seed = seed;
        let mut ip = TunnelIp::new(config).unwrap();
        let transport = BgpTransport::new(&mut ip, remote, true).unwrap();
        End {
            router,
            peer,
            ip,
            transport,
            timers: BTreeMap::new(),
            inputs: VecDeque::new(),
        }
    }

    fn outputs(&mut self, now: Duration, out: Vec<RouterOutput>) {
        let mut inputs = Vec::new();
        for o in out {
            match &o.action {
                SessionOutput::StartTimer { timer, after } => {
                    self.timers.insert(*timer, now + *after);
                }
                SessionOutput::StopTimer(timer) => {
                    self.timers.remove(timer);
                }
                action => {
                    self.transport.apply(&mut self.ip, action, &mut inputs);
                }
            }
        }
        self.inputs.extend(inputs);
    }

    /// Feeds queued inputs until the core is quiet.
    fn settle(&mut self, now: Duration) {
        while let Some(input) = self.inputs.pop_front() {
            let mut out = Vec::new();
            self.router.handle(self.peer, input, &mut out);
            self.outputs(now, out);
        }
    }

    fn pump(&mut self, now: Duration, conn_ids: &mut ConnId) {
        let mut inputs = Vec::new();
        let mut next = || {
            *conn_ids += 1;
            *conn_ids
        };
        self.transport.pump(&mut self.ip, &mut next, &mut inputs);
        self.inputs.extend(inputs);
        self.settle(now);
    }

    fn fire_due(&mut self, now: Duration) -> bool {
        let due: Vec<TimerKind> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| *k)
            .collect();
        for timer in &due {
            self.timers.remove(timer);
            self.inputs.push_back(SessionInput::TimerExpired(*timer));
        }
        self.settle(now);
        !due.is_empty()
    }

    fn next_deadline(&mut self, now: Duration) -> Option<Duration> {
        let timer = self.timers.values().min().copied();
        [timer, self.ip.poll_at(now)].into_iter().flatten().min()
    }

    fn state(&self) -> State {
        self.router.session(self.peer).unwrap().state()
    }

    fn announce(&mut self, now: Duration, prefix: &str) {
        let attrs = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([])),
            ..PathAttributes::default()
        };
        let mut out = Vec::new();
        self.router
            .announce(prefix.parse::<Prefix>().unwrap(), attrs, &mut out);
        self.outputs(now, out);
        self.settle(now);
    }
}

struct Lab {
    now: Duration,
    cloud: End,
    customer: End,
    conn_ids: ConnId,
    /// While set, the tunnel loses every packet (an SA gone, a cut path).
    cut: bool,
    packets: u64,
    /// When set, every packet is sealed into ESP and opened again.
    esp: Option<Esp>,
}

/// The tunnel's SA pair as AWS sets it up: AES-128-CBC, HMAC-SHA1-96.
/// One SA per direction; each end holds the outbound one and its peer the
/// matching inbound one.
struct Esp {
    to_customer: (SecurityAssociation, SecurityAssociation),
    to_cloud: (SecurityAssociation, SecurityAssociation),
    next_iv: u64,
    largest_outer: usize,
    opened: u64,
}

impl Esp {
    fn new() -> Self {
        let sa = |spi: u32, k: u8| {
            let enc = [k; 16];
            let auth = [k ^ 0x5a; 20];
            let params = SaParams::new(spi, Cipher::Aes128Cbc, &enc, Integrity::HmacSha1_96, &auth);
            (
                SecurityAssociation::new(&params).unwrap(),
                SecurityAssociation::new(&params).unwrap(),
            )
        };
        Esp {
            to_customer: sa(0xc000_0001, 1),
            to_cloud: sa(0xcafe_0002, 2),
            next_iv: 0,
            largest_outer: 0,
            opened: 0,
        }
    }

    /// Seals `inner` with the sender's SA and opens it with the receiver's.
    fn carry(&mut self, to_cloud: bool, inner: &[u8]) -> Vec<u8> {
        // Test IVs: distinct per packet, which is all CBC needs to round-trip.
        let mut counter = self.next_iv;
        self.next_iv += 1;
        let mut ivs = |iv: &mut [u8; 16]| {
            iv[..8].copy_from_slice(&counter.to_be_bytes());
            counter += 1;
            Ok(())
        };
        let (seal, open) = if to_cloud {
            let (a, b) = &mut self.to_cloud;
            (a, b)
        } else {
            let (a, b) = &mut self.to_customer;
            (a, b)
        };
        let mut esp = BytesMut::new();
        seal.seal(inner, NEXT_HEADER_IPV4, &mut ivs, &mut esp)
            .unwrap();
        // Outer IPv4 (20) and the NAT-T UDP header (8, RFC 3948).
        self.largest_outer = self.largest_outer.max(esp.len() + 28);
        let mut out = BytesMut::new();
        let opened = open.open(&esp, &mut out).unwrap();
        assert_eq!(opened.next_header, NEXT_HEADER_IPV4);
        self.opened += 1;
        out.to_vec()
    }
}

impl Lab {
    fn new() -> Self {
        // 64512: the default Amazon-side ASN of a virtual private gateway.
        let cloud = End::new("vgw", 64512, 65000, CLOUD, CUSTOMER, 11);
        let customer = End::new("cgw", 65000, 64512, CUSTOMER, CLOUD, 22);
        Lab {
            now: Duration::ZERO,
            cloud,
            customer,
            conn_ids: 0,
            cut: false,
            packets: 0,
            esp: None,
        }
    }

    fn start(&mut self) {
        for end in [&mut self.cloud, &mut self.customer] {
            let mut out = Vec::new();
            end.router.start(&mut out);
            end.outputs(self.now, out);
            end.settle(self.now);
        }
    }

    fn run_until(&mut self, until: Duration) {
        loop {
            let mut moved = false;
            let to_customer: Vec<Bytes> = self.cloud.ip.poll(self.now);
            let to_cloud: Vec<Bytes> = self.customer.ip.poll(self.now);
            moved |= !to_customer.is_empty() || !to_cloud.is_empty();
            self.packets += (to_customer.len() + to_cloud.len()) as u64;
            if !self.cut {
                for p in &to_customer {
                    let p = match &mut self.esp {
                        Some(esp) => esp.carry(false, p),
                        None => p.to_vec(),
                    };
                    self.customer.ip.receive(self.now, &p);
                }
                for p in &to_cloud {
                    let p = match &mut self.esp {
                        Some(esp) => esp.carry(true, p),
                        None => p.to_vec(),
                    };
                    self.cloud.ip.receive(self.now, &p);
                }
            }
            self.cloud.pump(self.now, &mut self.conn_ids);
            self.customer.pump(self.now, &mut self.conn_ids);
            moved |= self.cloud.fire_due(self.now);
            moved |= self.customer.fire_due(self.now);
            if moved {
                continue;
            }
            let next = [
                self.cloud.next_deadline(self.now),
                self.customer.next_deadline(self.now),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(at) if at <= until => {
                    self.now = at.max(self.now + Duration::from_millis(1));
                }
                _ => {
                    self.now = until.max(self.now);
                    return;
                }
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }
}

fn learned(end: &End, prefix: &str) -> Option<IpAddr> {
    let route = end.router.best_route(&prefix.parse::<Prefix>().unwrap())?;
    route.peer_address
}

#[test]
fn bgp_session_over_the_inside_addresses_comes_up_exchanges_routes_and_stays() {
    let mut lab = Lab::new();
    lab.cloud.announce(lab.now, "10.0.0.0/16");
    lab.customer.announce(lab.now, "192.168.0.0/16");
    lab.start();
    lab.run_for(Duration::from_secs(5));
    assert_eq!(lab.cloud.state(), State::Established);
    assert_eq!(lab.customer.state(), State::Established);
    assert_eq!(
        learned(&lab.customer, "10.0.0.0/16"),
        Some(IpAddr::V4(CLOUD))
    );
    assert_eq!(
        learned(&lab.cloud, "192.168.0.0/16"),
        Some(IpAddr::V4(CUSTOMER))
    );
    // Both ends opened (the BGP collision, RFC 4271 §6.8): two TCP
    // connections, each named once per end; the core kept one.
    assert_eq!(lab.conn_ids, 4);

    // Keepalives every 10 s hold it up for two minutes of virtual time.
    lab.run_for(Duration::from_secs(120));
    assert_eq!(lab.cloud.state(), State::Established);
    assert_eq!(lab.customer.state(), State::Established);
    assert_eq!(lab.cloud.ip.stats().dropped(), 0);
    assert_eq!(lab.customer.ip.stats().dropped(), 0);
    assert_eq!(lab.cloud.ip.tcp_connections(), 1);
    assert_eq!(lab.customer.ip.tcp_connections(), 1);
}

#[test]
fn a_cut_tunnel_expires_the_hold_timer_and_the_session_returns_when_it_heals() {
    let mut lab = Lab::new();
    lab.cloud.announce(lab.now, "10.0.0.0/16");
    lab.start();
    lab.run_for(Duration::from_secs(5));
    assert_eq!(lab.customer.state(), State::Established);

    lab.cut = true;
    lab.run_for(Duration::from_secs(31));
    assert_ne!(lab.cloud.state(), State::Established);
    assert_ne!(lab.customer.state(), State::Established);
    assert_eq!(learned(&lab.customer, "10.0.0.0/16"), None);

    lab.cut = false;
    lab.run_for(Duration::from_secs(180));
    assert_eq!(lab.cloud.state(), State::Established);
    assert_eq!(lab.customer.state(), State::Established);
    assert_eq!(
        learned(&lab.customer, "10.0.0.0/16"),
        Some(IpAddr::V4(CLOUD))
    );
}

#[test]
fn bgp_over_real_esp_fits_a_1500_byte_path_with_nat_t() {
    let mut lab = Lab::new();
    lab.esp = Some(Esp::new());
    // Enough routes that UPDATEs fill whole segments.
    for i in 0..400u32 {
        let prefix = format!("10.{}.{}.0/24", i / 256, i % 256);
        lab.cloud.announce(lab.now, &prefix);
    }
    lab.start();
    lab.run_for(Duration::from_secs(60));
    assert_eq!(lab.cloud.state(), State::Established);
    assert_eq!(lab.customer.state(), State::Established);
    assert_eq!(
        learned(&lab.customer, "10.1.143.0/24"),
        Some(IpAddr::V4(CLOUD))
    );
    let esp = lab.esp.as_ref().unwrap();
    assert_eq!(esp.opened, lab.packets);
    // The 1379 MSS clamp is what makes this hold: 1419-byte inner packets
    // become 1488-byte outer ones (20 IP + 8 UDP + 8 ESP + 16 IV + 1424
    // padded + 12 ICV).
    assert_eq!(esp.largest_outer, 1488);
}
