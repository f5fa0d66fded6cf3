//! Peer tests in virtual time: two peers back to back through a lossless,
//! zero-latency wire the tests can cut; every instant is exact.

mod dpd;
mod handshake;
mod negotiation;
mod rekey;
mod retransmit;
mod robustness;

use crate::config::{PeerConfig, Psk};
use crate::peer::{ChildSaInfo, Event, IkePeer, Input, Output};
use crate::random::SeededRandom;
use crate::timers::TimerKind;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

pub const CLOUD: &str = "192.0.2.1:500";
pub const CUSTOMER: &str = "198.51.100.7:500";
pub const PSK: &str = "aws4lab_psk_0123456789abcdefghij";

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub fn cloud_config() -> PeerConfig {
    PeerConfig::cloud(addr(CLOUD), addr(CUSTOMER), Psk::new(PSK))
}

pub fn customer_config() -> PeerConfig {
    PeerConfig::customer(addr(CUSTOMER), addr(CLOUD), Psk::new(PSK))
}

pub struct Node {
    pub peer: IkePeer,
    pub timers: BTreeMap<TimerKind, Duration>,
    pub events: Vec<(Duration, Event)>,
    /// Every datagram this node sent: when, from, to, bytes.
    pub sent: Vec<(Duration, SocketAddr, SocketAddr, Bytes)>,
}

pub struct Sim {
    pub now: Duration,
    pub nodes: Vec<Node>,
    queue: std::collections::VecDeque<(SocketAddr, SocketAddr, Bytes)>,
    /// Datagrams sent by node i are lost while `cut[i]`.
    pub cut: [bool; 2],
}

pub const CLOUD_NODE: usize = 0;
pub const CUSTOMER_NODE: usize = 1;

impl Sim {
    /// Node 0 is the cloud, node 1 the customer gateway.
    pub fn new(cloud: PeerConfig, customer: PeerConfig) -> Sim {
        Sim::seeded(cloud, customer, [1, 2])
    }

    pub fn seeded(cloud: PeerConfig, customer: PeerConfig, seeds: [u64; 2]) -> Sim {
        let nodes = [(cloud, seeds[0]), (customer, seeds[1])]
            .into_iter()
            .map(|(c, seed)| Node {
                peer: IkePeer::new(c, Box::new(SeededRandom::new(seed))).unwrap(),
                timers: BTreeMap::new(),
                events: Vec::new(),
                sent: Vec::new(),
            })
            .collect();
        Sim {
            now: Duration::ZERO,
            nodes,
            queue: Default::default(),
            cut: [false; 2],
        }
    }

    pub fn pair() -> Sim {
        Sim::new(cloud_config(), customer_config())
    }

    /// Both peers do what their startup action says, then the wire runs
    /// until `until`.
    pub fn start(&mut self, until: Duration) {
        for i in 0..self.nodes.len() {
            let mut out = Vec::new();
            self.nodes[i].peer.start(&mut out);
            self.apply(i, out);
        }
        self.run_until(until);
    }

    pub fn input(&mut self, node: usize, input: Input) {
        let mut out = Vec::new();
        self.nodes[node].peer.handle(input, &mut out);
        self.apply(node, out);
        self.drain();
    }

    pub fn apply(&mut self, node: usize, out: Vec<Output>) {
        let now = self.now;
        let n = &mut self.nodes[node];
        for o in out {
            match o {
                Output::Send { from, to, bytes } => {
                    n.sent.push((now, from, to, bytes.clone()));
                    if !self.cut[node] {
                        self.queue.push_back((from, to, bytes));
                    }
                }
                Output::StartTimer { kind, after } => {
                    n.timers.insert(kind, now + after);
                }
                Output::StopTimer(kind) => {
                    n.timers.remove(&kind);
                }
                Output::Event(e) => n.events.push((now, e)),
            }
        }
    }

    fn node_at(&self, to: SocketAddr) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.peer.config().local.ip() == to.ip())
    }

    /// Deliver everything in flight (zero latency).
    pub fn drain(&mut self) {
        let mut guard = 0;
        while let Some((from, to, bytes)) = self.queue.pop_front() {
            guard += 1;
            assert!(guard < 10_000, "message storm");
            let Some(i) = self.node_at(to) else { continue };
            let mut out = Vec::new();
            self.nodes[i]
                .peer
                .handle(Input::Datagram { from, to, bytes }, &mut out);
            self.apply(i, out);
        }
    }

    /// Deliver one datagram in flight.
    pub fn drain_one(&mut self) {
        if let Some((from, to, bytes)) = self.queue.pop_front() {
            if let Some(i) = self.node_at(to) {
                let mut out = Vec::new();
                self.nodes[i]
                    .peer
                    .handle(Input::Datagram { from, to, bytes }, &mut out);
                self.apply(i, out);
            }
        }
    }

    /// Lose whatever is in flight.
    pub fn drop_in_flight(&mut self) {
        self.queue.clear();
    }

    /// Fire timers in deadline order up to and including `until`.
    pub fn run_until(&mut self, until: Duration) {
        self.drain();
        loop {
            let next = self
                .nodes
                .iter()
                .enumerate()
                .flat_map(|(i, n)| n.timers.iter().map(move |(k, t)| (*t, i, *k)))
                .min();
            let Some((t, i, kind)) = next else { break };
            if t > until {
                break;
            }
            self.now = t;
            self.nodes[i].timers.remove(&kind);
            let mut out = Vec::new();
            self.nodes[i]
                .peer
                .handle(Input::TimerExpired(kind), &mut out);
            self.apply(i, out);
            self.drain();
        }
        self.now = until;
    }

    pub fn children_up(&self, node: usize) -> Vec<(Duration, ChildSaInfo)> {
        self.nodes[node]
            .events
            .iter()
            .filter_map(|(t, e)| match e {
                Event::ChildSaUp(c) => Some((*t, (**c).clone())),
                _ => None,
            })
            .collect()
    }

    pub fn errors(&self, node: usize) -> Vec<String> {
        self.nodes[node]
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Error { reason } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// The two ends of one SA pair agree: my inbound is your outbound.
pub fn assert_mirrored(a: &ChildSaInfo, b: &ChildSaInfo) {
    assert_eq!(a.spi_in, b.spi_out);
    assert_eq!(a.spi_out, b.spi_in);
    assert_eq!(a.enc_key_in, b.enc_key_out);
    assert_eq!(a.integ_key_in, b.integ_key_out);
    assert_eq!(a.enc_key_out, b.enc_key_in);
    assert_eq!(a.integ_key_out, b.integ_key_in);
    assert_ne!(a.enc_key_in, a.enc_key_out);
    assert_eq!(a.proposal, b.proposal);
    assert_eq!(a.udp_encapsulation, b.udp_encapsulation);
}
