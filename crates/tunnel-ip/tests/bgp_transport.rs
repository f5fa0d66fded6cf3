//! The BGP transport on its own: what the core would see, driven by hand.

use bytes::Bytes;
use hybridlab_bgp::session::{ConnId, SessionInput, SessionOutput};
use hybridlab_tunnel_ip::{BgpTransport, TunnelIp, TunnelIpConfig};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const CLOUD: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 1);
const CUSTOMER: Ipv4Addr = Ipv4Addr::new(169, 254, 10, 2);

struct Side {
    ip: TunnelIp,
    transport: BgpTransport,
    inputs: Vec<SessionInput>,
}

fn side(local: Ipv4Addr, peer: Ipv4Addr, accept: bool, seed: u64) -> Side {
    let mut config = TunnelIpConfig::new(local);
    config.seed = seed;
    let mut ip = TunnelIp::new(config).unwrap();
    let transport = BgpTransport::new(&mut ip, peer, accept).unwrap();
    Side {
        ip,
        transport,
        inputs: Vec::new(),
    }
}

struct Pair {
    now: Duration,
    cloud: Side,
    customer: Side,
    next_conn: ConnId,
}

impl Pair {
    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        loop {
            let a = self.cloud.ip.poll(self.now);
            let b = self.customer.ip.poll(self.now);
            let moved = !a.is_empty() || !b.is_empty();
            for p in a {
                self.customer.ip.receive(self.now, &p);
            }
            for p in b {
                self.cloud.ip.receive(self.now, &p);
            }
            for s in [&mut self.cloud, &mut self.customer] {
                let next_conn = &mut self.next_conn;
                let mut next = || {
                    *next_conn += 1;
                    *next_conn
                };
                s.transport.pump(&mut s.ip, &mut next, &mut s.inputs);
            }
            if moved {
                continue;
            }
            let next = [
                self.cloud.ip.poll_at(self.now),
                self.customer.ip.poll_at(self.now),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(at) if at <= until => self.now = at.max(self.now + Duration::from_millis(1)),
                _ => {
                    self.now = until;
                    return;
                }
            }
        }
    }
}

fn conn_of(inputs: &[SessionInput]) -> ConnId {
    inputs
        .iter()
        .find_map(|i| match i {
            SessionInput::Connected { conn, .. } => Some(*conn),
            _ => None,
        })
        .expect("connected")
}

fn received(inputs: &[SessionInput], want: ConnId) -> Vec<u8> {
    inputs
        .iter()
        .filter_map(|i| match i {
            SessionInput::Received { conn, data } if *conn == want => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn connected_names_the_inside_addresses_and_close_flushes_before_the_fin() {
    let mut p = Pair {
        now: Duration::ZERO,
        cloud: side(CLOUD, CUSTOMER, true, 1),
        customer: side(CUSTOMER, CLOUD, false, 2),
        next_conn: 100,
    };
    let mut out = Vec::new();
    assert!(p
        .customer
        .transport
        .apply(&mut p.customer.ip, &SessionOutput::Connect, &mut out));
    assert!(out.is_empty());
    p.run_for(Duration::from_millis(100));
    let c = conn_of(&p.customer.inputs);
    let s = conn_of(&p.cloud.inputs);
    assert_eq!(
        p.customer.inputs[0],
        SessionInput::Connected {
            conn: c,
            outbound: true,
            local: IpAddr::V4(CUSTOMER),
            remote: IpAddr::V4(CLOUD)
        }
    );
    assert_eq!(
        p.cloud.inputs[0],
        SessionInput::Connected {
            conn: s,
            outbound: false,
            local: IpAddr::V4(CLOUD),
            remote: IpAddr::V4(CUSTOMER)
        }
    );

    // Three times the send buffer, then Close at once: every byte still
    // arrives, in order, before the connection ends.
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for chunk in big.chunks(4096) {
        p.customer.transport.apply(
            &mut p.customer.ip,
            &SessionOutput::Send {
                conn: c,
                data: Bytes::copy_from_slice(chunk),
            },
            &mut out,
        );
    }
    p.customer.transport.apply(
        &mut p.customer.ip,
        &SessionOutput::Close { conn: c },
        &mut out,
    );
    p.run_for(Duration::from_secs(5));
    assert_eq!(received(&p.cloud.inputs, s), big);
    assert_eq!(
        p.cloud.inputs.last(),
        Some(&SessionInput::Closed { conn: s })
    );
    // The core that closed hears nothing more of its connection.
    assert_eq!(p.customer.inputs.len(), 1);
    assert!(out.is_empty());
    assert_eq!(p.cloud.ip.tcp_connections(), 0);
}

#[test]
fn a_refused_attempt_is_connect_failed_and_a_new_connect_abandons_the_old() {
    let mut p = Pair {
        now: Duration::ZERO,
        cloud: side(CLOUD, CUSTOMER, false, 1),
        customer: side(CUSTOMER, CLOUD, false, 2),
        next_conn: 0,
    };
    let mut out = Vec::new();
    p.customer.transport.connect(&mut p.customer.ip, &mut out);
    p.run_for(Duration::from_millis(100));
    assert_eq!(p.customer.inputs, [SessionInput::ConnectFailed]);

    // The cloud starts listening; two Connects in a row: only the second
    // counts, the first is reset and never reported.
    p.customer.inputs.clear();
    p.cloud.ip.listen(179).unwrap();
    p.customer.transport.connect(&mut p.customer.ip, &mut out);
    p.customer.transport.connect(&mut p.customer.ip, &mut out);
    p.run_for(Duration::from_millis(100));
    assert_eq!(p.customer.inputs.len(), 1, "{:?}", p.customer.inputs);
    assert!(matches!(
        p.customer.inputs[0],
        SessionInput::Connected { outbound: true, .. }
    ));
    assert_eq!(p.customer.ip.tcp_connections(), 1);
}

#[test]
fn only_the_peer_may_connect() {
    // The cloud expects 169.254.10.2; a stranger whose packets come through
    // the tunnel too is reset once its handshake completes.
    let mut cloud = side(CLOUD, CUSTOMER, true, 1);
    let mut stranger = TunnelIp::new(TunnelIpConfig::new(Ipv4Addr::new(169, 254, 20, 2))).unwrap();
    let h = stranger.connect(CLOUD, 179).unwrap();
    let mut now = Duration::ZERO;
    let mut next = 0;
    for _ in 0..20 {
        for pk in stranger.poll(now) {
            cloud.ip.receive(now, &pk);
        }
        for pk in cloud.ip.poll(now) {
            stranger.receive(now, &pk);
        }
        cloud.transport.pump(
            &mut cloud.ip,
            &mut || {
                next += 1;
                next
            },
            &mut cloud.inputs,
        );
        now += Duration::from_millis(20);
    }
    assert!(cloud.inputs.is_empty());
    assert_eq!(stranger.state(h), None);
}
