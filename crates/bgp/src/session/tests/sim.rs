//! A deterministic simulator: sessions wired back to back over lossless,
//! instantaneous links, a virtual clock, and a timer queue fed from
//! `StartTimer` / `StopTimer`. Time only moves when the test says so, so
//! every assertion can name an exact instant.

use super::wire;
use crate::session::{ConnId, Session, SessionConfig, SessionInput, SessionOutput, TimerKind};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A session, the timers it armed (kind → deadline) and everything it said.
pub struct Node {
    pub session: Session,
    pub timers: BTreeMap<TimerKind, Duration>,
    pub log: Vec<(Duration, SessionOutput)>,
}

impl Node {
    pub fn new(config: SessionConfig, seed: u64) -> Self {
        Node {
            session: Session::new(config, seed),
            timers: BTreeMap::new(),
            log: Vec::new(),
        }
    }

    /// Feeds one input at `now`, keeps the timer queue and the log.
    pub fn feed(&mut self, now: Duration, input: SessionInput) -> Vec<SessionOutput> {
        let mut out = Vec::new();
        self.session.handle(input, &mut out);
        for o in &out {
            match o {
                SessionOutput::StartTimer { timer, after } => {
                    self.timers.insert(*timer, now + *after);
                }
                SessionOutput::StopTimer(timer) => {
                    self.timers.remove(timer);
                }
                _ => {}
            }
            self.log.push((now, o.clone()));
        }
        out
    }

    /// The earliest armed timer, if any.
    pub fn next_timer(&self) -> Option<(Duration, TimerKind)> {
        self.timers.iter().map(|(k, at)| (*at, *k)).min()
    }

    /// Instants at which an output matching `pred` was produced.
    pub fn times(&self, pred: impl Fn(&SessionOutput) -> bool) -> Vec<Duration> {
        self.log
            .iter()
            .filter(|(_, o)| pred(o))
            .map(|(t, _)| *t)
            .collect()
    }

    pub fn outputs(&self) -> impl Iterator<Item = &SessionOutput> {
        self.log.iter().map(|(_, o)| o)
    }
}

/// One transport connection between the two nodes.
#[derive(Debug)]
pub struct Link {
    /// Node that connected.
    pub initiator: usize,
    /// The connection's id at node 0 and at node 1.
    pub conn: [ConnId; 2],
    /// Whether each end has not closed yet.
    pub open: [bool; 2],
}

/// Bytes one node put on a link.
#[derive(Clone, Debug)]
pub struct Wire {
    pub at: Duration,
    pub from: usize,
    pub link: usize,
    pub data: Bytes,
}

pub struct Sim {
    pub now: Duration,
    pub nodes: [Node; 2],
    pub links: Vec<Link>,
    pub wire: Vec<Wire>,
    queue: VecDeque<(usize, SessionInput)>,
    next_conn: ConnId,
    /// Connection attempts from this node fail.
    pub unreachable: [bool; 2],
    /// Everything this node sends is lost: a peer gone silent.
    pub mute: [bool; 2],
}

pub fn address(node: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1 + node as u8))
}

impl Sim {
    pub fn new(a: SessionConfig, b: SessionConfig) -> Self {
        Sim {
            now: Duration::ZERO,
            nodes: [Node::new(a, 1), Node::new(b, 2)],
            links: Vec::new(),
            wire: Vec::new(),
            queue: VecDeque::new(),
            next_conn: 1,
            unreachable: [false; 2],
            mute: [false; 2],
        }
    }

    /// Gives `input` to node `n` and runs until nothing is in flight.
    pub fn input(&mut self, n: usize, input: SessionInput) {
        self.queue.push_back((n, input));
        self.settle();
    }

    /// Starts node 0, lets everything settle, then starts node 1.
    pub fn start_in_turn(&mut self) {
        self.input(0, SessionInput::Start);
        self.input(1, SessionInput::Start);
    }

    /// Starts both sessions in the same instant, before either sees the
    /// other's connection: with two active sides, a collision (RFC 4271 §6.8).
    pub fn start_both(&mut self) {
        self.queue.push_back((0, SessionInput::Start));
        self.queue.push_back((1, SessionInput::Start));
        self.settle();
    }

    /// Delivers everything in flight at the current instant.
    pub fn settle(&mut self) {
        while let Some((n, input)) = self.queue.pop_front() {
            let out = self.nodes[n].feed(self.now, input);
            for o in out {
                self.apply(n, o);
            }
        }
    }

    fn apply(&mut self, n: usize, o: SessionOutput) {
        let peer = 1 - n;
        match o {
            SessionOutput::Connect => {
                if self.unreachable[n] {
                    self.queue.push_back((n, SessionInput::ConnectFailed));
                    return;
                }
                let mut conn = [0; 2];
                conn[n] = self.next_conn;
                conn[peer] = self.next_conn + 1;
                self.next_conn += 2;
                self.links.push(Link {
                    initiator: n,
                    conn,
                    open: [true; 2],
                });
                self.queue.push_back((
                    n,
                    SessionInput::Connected {
                        conn: conn[n],
                        outbound: true,
                        local: address(n),
                        remote: address(peer),
                    },
                ));
                self.queue.push_back((
                    peer,
                    SessionInput::Connected {
                        conn: conn[peer],
                        outbound: false,
                        local: address(peer),
                        remote: address(n),
                    },
                ));
            }
            SessionOutput::Send { conn, data } => {
                let Some(l) = self.link_of(n, conn) else {
                    return;
                };
                self.wire.push(Wire {
                    at: self.now,
                    from: n,
                    link: l,
                    data: data.clone(),
                });
                let link = &self.links[l];
                if link.open[n] && link.open[peer] && !self.mute[n] {
                    let conn = link.conn[peer];
                    self.queue
                        .push_back((peer, SessionInput::Received { conn, data }));
                }
            }
            SessionOutput::Close { conn } => {
                let Some(l) = self.link_of(n, conn) else {
                    return;
                };
                let link = &mut self.links[l];
                let was_open = link.open[n];
                link.open[n] = false;
                if was_open && link.open[peer] && !self.mute[n] {
                    let conn = link.conn[peer];
                    self.queue.push_back((peer, SessionInput::Closed { conn }));
                }
            }
            _ => {}
        }
    }

    fn link_of(&self, n: usize, conn: ConnId) -> Option<usize> {
        self.links.iter().position(|l| l.conn[n] == conn)
    }

    /// Runs timers due up to and including `until`, in deadline order (ties:
    /// node 0 first, then timer kind), then sets the clock to `until`.
    pub fn run_until(&mut self, until: Duration) {
        self.settle();
        loop {
            let next = (0..2)
                .filter_map(|n| self.nodes[n].next_timer().map(|(at, k)| (at, n, k)))
                .min();
            let Some((at, n, kind)) = next else { break };
            if at > until {
                break;
            }
            assert!(at >= self.now, "timer in the past: {at:?} < {:?}", self.now);
            self.now = at;
            self.nodes[n].timers.remove(&kind);
            self.input(n, SessionInput::TimerExpired(kind));
        }
        self.now = until;
    }

    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// Messages node `from` put on the wire, decoded by the test's own
    /// parser: (instant, link, message).
    pub fn sent_by(&self, from: usize) -> Vec<(Duration, usize, wire::Msg)> {
        self.wire
            .iter()
            .filter(|w| w.from == from)
            .flat_map(|w| {
                wire::split(&w.data)
                    .into_iter()
                    .map(move |m| (w.at, w.link, m))
            })
            .collect()
    }

    /// Instants node `from` sent a message of type `ty` (on any link).
    pub fn sent_times(&self, from: usize, ty: u8) -> Vec<Duration> {
        self.sent_by(from)
            .into_iter()
            .filter(|(_, _, m)| m.ty == ty)
            .map(|(t, _, _)| t)
            .collect()
    }
}

/// One session against a peer the test plays by hand, byte by byte.
pub struct Bench {
    pub now: Duration,
    pub node: Node,
}

impl Bench {
    pub fn new(config: SessionConfig) -> Self {
        Bench {
            now: Duration::ZERO,
            node: Node::new(config, 1),
        }
    }

    pub fn input(&mut self, input: SessionInput) -> Vec<SessionOutput> {
        self.node.feed(self.now, input)
    }

    pub fn connected(&mut self, conn: ConnId, outbound: bool) -> Vec<SessionOutput> {
        self.input(SessionInput::Connected {
            conn,
            outbound,
            local: address(0),
            remote: address(1),
        })
    }

    pub fn receive(&mut self, conn: ConnId, data: &[u8]) -> Vec<SessionOutput> {
        self.input(SessionInput::Received {
            conn,
            data: Bytes::copy_from_slice(data),
        })
    }

    /// Fires timers due up to `until`, in order; returns what they caused.
    pub fn advance_to(&mut self, until: Duration) -> Vec<(Duration, SessionOutput)> {
        let mut caused = Vec::new();
        while let Some((at, kind)) = self.node.next_timer() {
            if at > until {
                break;
            }
            self.now = at;
            self.node.timers.remove(&kind);
            for o in self.input(SessionInput::TimerExpired(kind)) {
                caused.push((at, o));
            }
        }
        self.now = until;
        caused
    }

    /// Takes the session from a fresh inbound connection to Established
    /// with a well-behaved peer; returns the connection's id.
    pub fn establish(&mut self, conn: ConnId, peer_open: &[u8]) {
        self.connected(conn, false);
        self.receive(conn, peer_open);
        self.receive(conn, &wire::keepalive());
        assert_eq!(
            self.node.session.state(),
            crate::session::State::Established
        );
    }
}

/// Messages sent on `conn` among `out`, parsed by the test's own parser.
pub fn sent_on(out: &[SessionOutput], conn: ConnId) -> Vec<wire::Msg> {
    out.iter()
        .filter_map(|o| match o {
            SessionOutput::Send { conn: c, data } if *c == conn => Some(wire::split(data)),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The raw bytes sent on `conn` among `out`, concatenated.
pub fn bytes_on(out: &[SessionOutput], conn: ConnId) -> Vec<u8> {
    out.iter()
        .filter_map(|o| match o {
            SessionOutput::Send { conn: c, data } if *c == conn => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}
