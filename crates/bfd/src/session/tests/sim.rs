//! A deterministic simulator: two sessions over a link with a fixed
//! one-way delay, a virtual clock, and a timer queue fed from `StartTimer`
//! / `StopTimer`. Time moves only when the test says so, so every assertion
//! can name an exact instant.

use crate::packet::ControlPacket;
use crate::session::{Input, Output, Session, SessionConfig, State, TimerKind, SINGLE_HOP_TTL};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Duration;

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A session, the timers it armed (kind → deadline) and everything it said.
pub struct Node {
    pub session: Session,
    pub timers: BTreeMap<TimerKind, Duration>,
    pub log: Vec<(Duration, Output)>,
    /// Instants at which a packet reached this node (accepted or not).
    pub arrivals: Vec<Duration>,
}

impl Node {
    pub fn new(config: SessionConfig, seed: u64) -> Self {
        Node {
            session: Session::new(config, seed).unwrap(),
            timers: BTreeMap::new(),
            log: Vec::new(),
            arrivals: Vec::new(),
        }
    }

    pub fn feed(&mut self, now: Duration, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        self.session.handle(input, &mut out);
        for o in &out {
            match o {
                Output::StartTimer { timer, after } => {
                    self.timers.insert(*timer, now + *after);
                }
                Output::StopTimer(timer) => {
                    self.timers.remove(timer);
                }
                _ => {}
            }
            self.log.push((now, o.clone()));
        }
        out
    }

    pub fn next_timer(&self) -> Option<(Duration, TimerKind)> {
        self.timers.iter().map(|(k, at)| (*at, *k)).min()
    }

    /// Packets this node sent, decoded: (instant, packet).
    pub fn sent(&self) -> Vec<(Duration, ControlPacket)> {
        self.log
            .iter()
            .filter_map(|(t, o)| match o {
                Output::Send(b) => Some((*t, ControlPacket::decode(b).unwrap())),
                _ => None,
            })
            .collect()
    }

    /// (instant, from, to) of every state change.
    pub fn changes(&self) -> Vec<(Duration, State, State)> {
        self.log
            .iter()
            .filter_map(|(t, o)| match o {
                Output::StateChanged { from, to, .. } => Some((*t, *from, *to)),
                _ => None,
            })
            .collect()
    }

    /// The states this node went through, starting with the first `from`.
    pub fn states(&self) -> Vec<State> {
        let changes = self.changes();
        let mut seq: Vec<State> = changes.first().map(|c| c.1).into_iter().collect();
        seq.extend(changes.iter().map(|c| c.2));
        seq
    }

    pub fn outputs(&self) -> impl Iterator<Item = &Output> {
        self.log.iter().map(|(_, o)| o)
    }
}

pub struct Sim {
    pub now: Duration,
    pub nodes: [Node; 2],
    /// One-way delay of the link.
    pub delay: Duration,
    /// Everything this node sends is lost, from now on and in flight: a
    /// silent cut in one direction.
    pub mute: [bool; 2],
    /// (arrival, sequence, to, datagram)
    in_flight: Vec<(Duration, u64, usize, Bytes)>,
    sequence: u64,
}

impl Sim {
    pub fn new(a: SessionConfig, b: SessionConfig, delay: Duration) -> Self {
        Sim {
            now: Duration::ZERO,
            nodes: [Node::new(a, 1), Node::new(b, 2)],
            delay,
            mute: [false; 2],
            in_flight: Vec::new(),
            sequence: 0,
        }
    }

    pub fn input(&mut self, n: usize, input: Input) {
        let out = self.nodes[n].feed(self.now, input);
        for o in out {
            if let Output::Send(bytes) = o {
                if !self.mute[n] {
                    self.sequence += 1;
                    self.in_flight
                        .push((self.now + self.delay, self.sequence, 1 - n, bytes));
                }
            }
        }
    }

    pub fn start_both(&mut self) {
        self.input(0, Input::Start);
        self.input(1, Input::Start);
    }

    /// Runs deliveries and timers due up to and including `until`, in time
    /// order (deliveries first at equal instants, then node 0, then timer
    /// kind), then sets the clock to `until`.
    pub fn run_until(&mut self, until: Duration) {
        loop {
            let delivery = self
                .in_flight
                .iter()
                .enumerate()
                .min_by_key(|(_, (at, seq, _, _))| (*at, *seq))
                .map(|(i, (at, _, _, _))| (*at, i));
            let timer = (0..2)
                .filter_map(|n| self.nodes[n].next_timer().map(|(at, k)| (at, n, k)))
                .min();
            match (delivery, timer) {
                (Some((at, i)), t)
                    if at <= until && !matches!(t, Some((tat, _, _)) if tat < at) =>
                {
                    let (_, _, to, bytes) = self.in_flight.remove(i);
                    self.now = at;
                    if self.mute[1 - to] {
                        continue;
                    }
                    self.nodes[to].arrivals.push(at);
                    let packet = ControlPacket::decode(&bytes).unwrap();
                    self.input(
                        to,
                        Input::Received {
                            packet,
                            ttl: SINGLE_HOP_TTL,
                        },
                    );
                }
                (_, Some((at, n, kind))) if at <= until => {
                    assert!(at >= self.now, "timer in the past");
                    self.now = at;
                    self.nodes[n].timers.remove(&kind);
                    self.input(n, Input::TimerExpired(kind));
                }
                _ => break,
            }
        }
        self.now = until;
    }

    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    pub fn states(&self) -> [State; 2] {
        [self.nodes[0].session.state(), self.nodes[1].session.state()]
    }

    /// Brings both up from a standing start; returns the instant both are Up.
    pub fn bring_up(&mut self) -> Duration {
        self.start_both();
        while self.states() != [State::Up; 2] {
            assert!(self.now < Duration::from_secs(10), "never came up");
            self.run_for(ms(1));
        }
        self.now
    }
}

/// One session against a peer the test plays by hand.
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

    pub fn input(&mut self, input: Input) -> Vec<Output> {
        self.node.feed(self.now, input)
    }

    pub fn receive(&mut self, packet: ControlPacket) -> Vec<Output> {
        self.input(Input::Received {
            packet,
            ttl: SINGLE_HOP_TTL,
        })
    }

    /// Fires timers due up to `until`, in order; returns what they caused.
    pub fn advance_to(&mut self, until: Duration) -> Vec<(Duration, Output)> {
        let mut caused = Vec::new();
        while let Some((at, kind)) = self.node.next_timer() {
            if at > until {
                break;
            }
            self.now = at;
            self.node.timers.remove(&kind);
            for o in self.input(Input::TimerExpired(kind)) {
                caused.push((at, o));
            }
        }
        self.now = until;
        caused
    }

    /// Start, then the peer's Down and Up: the session is Up (Down → Init → Up).
    pub fn bring_up(&mut self, peer: &ControlPacket) {
        self.input(Input::Start);
        self.receive(ControlPacket {
            state: State::Down,
            your_discriminator: 0,
            ..peer.clone()
        });
        self.receive(ControlPacket {
            state: State::Up,
            ..peer.clone()
        });
        assert_eq!(self.node.session.state(), State::Up);
    }
}

/// Packets among `out`, decoded.
pub fn sent(out: &[Output]) -> Vec<ControlPacket> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(b) => Some(ControlPacket::decode(b).unwrap()),
            _ => None,
        })
        .collect()
}
