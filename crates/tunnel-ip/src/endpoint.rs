//! [`TunnelIp`]: the endpoint itself. Vetted TCP segments go to a smoltcp
//! interface; echo requests are answered on the raw packet; TCP socket
//! states are turned into [`TcpEvent`]s.

use crate::config::{ConfigError, TunnelIpConfig};
use crate::device::Queues;
use crate::event::{CloseReason, TcpEvent, TcpHandle, TcpState};
use crate::icmp;
use crate::ingress::{self, DropReason, Verdict};
use crate::stats::Stats;
use bytes::Bytes;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpEndpoint, IpListenEndpoint};
use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use tracing::debug;

/// Per-connection buffers. A BGP message is at most 4096 bytes (65535
/// with RFC 8654), so 64 KiB holds a full window of them.
const BUFFER: usize = 64 * 1024;

/// Connections at once, half-open ones included. Each holds two buffers,
/// and a peer flooding SYNs must not grow memory without bound: past this,
/// listeners are not renewed and SYNs are answered with RST. One BGP
/// session needs two (during a collision).
pub const MAX_CONNECTIONS: usize = 16;

/// A passive open whose handshake has not completed by then is dropped,
/// about when Linux gives up retransmitting a SYN-ACK (5 retries, 63 s).
const HANDSHAKE_TIMEOUT: smoltcp::time::Duration = smoltcp::time::Duration::from_secs(63);

/// Ephemeral ports (RFC 6335 §6).
const EPHEMERAL_FIRST: u16 = 49152;
const EPHEMERAL_COUNT: u16 = 16384;

/// What became of one packet given to [`TunnelIp::receive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Passed to the TCP stack.
    Tcp,
    /// An echo request, answered (the reply leaves with the next `poll`).
    EchoReplied,
    Dropped(DropReason),
}

#[derive(Debug, thiserror::Error)]
pub enum TunnelIpError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("port {0} already has a listener")]
    AlreadyListening(u16),
    #[error("{MAX_CONNECTIONS} connections open already")]
    TooManyConnections,
    #[error("no free ephemeral port")]
    NoPort,
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddrV4, tcp::ConnectError),
    #[error("cannot listen on port {0}: {1}")]
    Listen(u16, tcp::ListenError),
}

/// Bookkeeping for one connection's socket.
struct Conn {
    socket: SocketHandle,
    outbound: bool,
    connected: bool,
    /// A `Readable` is out and `recv` has not emptied the buffer since.
    readable: bool,
    peer_closed: bool,
    /// `Closed` was raised; the socket may linger in TIME-WAIT.
    closed: bool,
    aborted: bool,
    /// The state at the last look, to tell a graceful end from a reset.
    last: TcpState,
}

pub struct TunnelIp {
    config: TunnelIpConfig,
    iface: Interface,
    device: Queues,
    sockets: SocketSet<'static>,
    /// The socket listening on each port given to `listen`. When a SYN
    /// takes it, it becomes a connection and a new one takes its place;
    /// `None` while [`MAX_CONNECTIONS`] are open.
    listeners: BTreeMap<u16, Option<SocketHandle>>,
    /// Ordered, so events come out in the same order on every run.
    conns: BTreeMap<TcpHandle, Conn>,
    next_handle: u64,
    next_port: u16,
    events: VecDeque<TcpEvent>,
    stats: Stats,
    /// The latest `now` seen: a clock that steps back is held here, since
    /// TCP timers assume time only moves forward.
    clock: Duration,
}

impl TunnelIp {
    pub fn new(config: TunnelIpConfig) -> Result<Self, TunnelIpError> {
        config.validate()?;
        let mut device = Queues::new(config.tcp_ip_mtu());
        let mut iface_config = Config::new(HardwareAddress::Ip);
        // Drives ISNs: seeded by the caller so a run replays.
        iface_config.random_seed = config.seed;
        let mut iface = Interface::new(iface_config, &mut device, Instant::ZERO);
        let cidr = IpCidr::new(IpAddress::Ipv4(config.local), config.prefix_len);
        iface.update_ip_addrs(|addrs| {
            // One address on a fresh interface: the list has room.
            let _ = addrs.push(cidr);
        });
        // Every packet leaves through the SA, whatever its destination (an
        // on-premises host pinging across the tunnel, say), so everything
        // off the inside network goes by a default route. On a bare IP
        // medium the gateway is never resolved; it only has to be on-link.
        if let Some(gateway) = on_link_neighbour(config.local, config.prefix_len) {
            let _ = iface.routes_mut().add_default_ipv4_route(gateway);
        }
        let next_port = EPHEMERAL_FIRST + (config.seed % u64::from(EPHEMERAL_COUNT)) as u16;
        Ok(TunnelIp {
            config,
            iface,
            device,
            sockets: SocketSet::new(Vec::new()),
            listeners: BTreeMap::new(),
            conns: BTreeMap::new(),
            next_handle: 1,
            next_port,
            events: VecDeque::new(),
            stats: Stats::default(),
            clock: Duration::ZERO,
        })
    }

    pub fn config(&self) -> &TunnelIpConfig {
        &self.config
    }

    pub fn local(&self) -> Ipv4Addr {
        self.config.local
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// One inner IP packet from the SA. `now` is the caller's clock: time
    /// since any fixed start, never going backwards.
    pub fn receive(&mut self, now: Duration, packet: &[u8]) -> Disposition {
        self.stats.received += 1;
        let verdict = ingress::classify(packet, self.config.local, &self.config.answer_ping_for);
        match verdict {
            Verdict::Tcp => {
                self.stats.tcp_in += 1;
                self.device.rx.push_back(packet.to_vec());
                // One packet per turn: a listener taken by a SYN is
                // replaced before the next SYN is looked at.
                self.turn(now);
                Disposition::Tcp
            }
            Verdict::Echo(request) => {
                self.stats.echo_replied += 1;
                self.device.tx.push_back(icmp::echo_reply(&request));
                Disposition::EchoReplied
            }
            Verdict::Drop(reason) => {
                self.stats.count_drop(reason);
                debug!(local = %self.config.local, %reason, len = packet.len(), "inner packet dropped");
                Disposition::Dropped(reason)
            }
        }
    }

    /// Runs the TCP stack (timers, queued data) and returns every IP packet
    /// to send into the SA, in order.
    pub fn poll(&mut self, now: Duration) -> Vec<Bytes> {
        self.turn(now);
        let out: Vec<Bytes> = self.device.tx.drain(..).map(Bytes::from).collect();
        self.stats.sent += out.len() as u64;
        out
    }

    /// When `poll` must run next, on the caller's clock; `None` when only a
    /// packet or a call can make anything happen. At or before `now` means
    /// at once.
    pub fn poll_at(&mut self, now: Duration) -> Option<Duration> {
        let now = self.clock.max(now);
        if !self.device.tx.is_empty() {
            return Some(now);
        }
        self.iface
            .poll_at(instant(now), &self.sockets)
            .map(duration)
    }

    /// How long until `poll` must run, from `now`.
    pub fn poll_delay(&mut self, now: Duration) -> Option<Duration> {
        self.poll_at(now).map(|at| at.saturating_sub(now))
    }

    /// Next TCP event, oldest first.
    pub fn next_event(&mut self) -> Option<TcpEvent> {
        self.events.pop_front()
    }

    // ---- TCP ----------------------------------------------------------

    /// Accepts connections to `port` on the inside address, from now on
    /// and after every connection: a new listener replaces each one taken.
    pub fn listen(&mut self, port: u16) -> Result<(), TunnelIpError> {
        if self.listeners.contains_key(&port) {
            return Err(TunnelIpError::AlreadyListening(port));
        }
        let socket = self.listening_socket(port)?;
        self.listeners.insert(port, Some(socket));
        Ok(())
    }

    /// Stops accepting on `port`; connections already made stay.
    pub fn unlisten(&mut self, port: u16) {
        if let Some(Some(socket)) = self.listeners.remove(&port) {
            self.sockets.remove(socket);
        }
    }

    /// Opens a connection to `remote:port` from the inside address. The
    /// outcome comes as `Connected` or `Closed { ConnectFailed }`. There is
    /// no connect timeout: the caller gives up with `abort` (BGP's
    /// ConnectRetry timer does).
    pub fn connect(&mut self, remote: Ipv4Addr, port: u16) -> Result<TcpHandle, TunnelIpError> {
        if self.conns.len() >= MAX_CONNECTIONS {
            return Err(TunnelIpError::TooManyConnections);
        }
        let local_port = self.ephemeral_port()?;
        let mut socket = new_socket();
        let remote_end = IpEndpoint::new(IpAddress::Ipv4(remote), port);
        let local_end = IpListenEndpoint {
            addr: Some(IpAddress::Ipv4(self.config.local)),
            port: local_port,
        };
        socket
            .connect(self.iface.context(), remote_end, local_end)
            .map_err(|e| TunnelIpError::Connect(SocketAddrV4::new(remote, port), e))?;
        let socket = self.sockets.add(socket);
        Ok(self.track(socket, true))
    }

    /// Queues bytes to send; returns how many fit in the send buffer (0
    /// when the connection cannot send). They leave with the next `poll`.
    pub fn send(&mut self, handle: TcpHandle, data: &[u8]) -> usize {
        let Some(socket) = self.socket_mut(handle) else {
            return 0;
        };
        socket.send_slice(data).unwrap_or(0)
    }

    /// Takes received bytes; 0 when there are none (or the connection is
    /// gone). Read until 0 to be told `Readable` again.
    pub fn recv(&mut self, handle: TcpHandle, buf: &mut [u8]) -> usize {
        let Some(conn) = self.conns.get_mut(&handle) else {
            return 0;
        };
        let socket = self.sockets.get_mut::<tcp::Socket>(conn.socket);
        let n = socket.recv_slice(buf).unwrap_or(0);
        if socket.recv_queue() == 0 {
            conn.readable = false;
        }
        n
    }

    /// Bytes queued and not yet acknowledged by the peer.
    pub fn send_queue(&self, handle: TcpHandle) -> usize {
        self.conns.get(&handle).map_or(0, |c| {
            self.sockets.get::<tcp::Socket>(c.socket).send_queue()
        })
    }

    /// Connections not yet reported `Closed` (listeners not counted).
    pub fn tcp_connections(&self) -> usize {
        self.conns.values().filter(|c| !c.closed).count()
    }

    pub fn state(&self, handle: TcpHandle) -> Option<TcpState> {
        let conn = self.conns.get(&handle)?;
        Some(self.sockets.get::<tcp::Socket>(conn.socket).state())
    }

    /// Graceful close: FIN once the queued bytes are sent (RFC 9293
    /// §3.6). `Closed` follows when the peer has closed too.
    pub fn close(&mut self, handle: TcpHandle) {
        if let Some(conn) = self.conns.get_mut(&handle) {
            let socket = self.sockets.get_mut::<tcp::Socket>(conn.socket);
            socket.close();
            conn.last = socket.state();
        }
    }

    /// Drops the connection at once with RST.
    pub fn abort(&mut self, handle: TcpHandle) {
        if let Some(conn) = self.conns.get_mut(&handle) {
            self.sockets.get_mut::<tcp::Socket>(conn.socket).abort();
            conn.aborted = true;
        }
    }

    // ---- inside ---------------------------------------------------------

    /// One turn of the stack, then the events it caused.
    fn turn(&mut self, now: Duration) {
        self.clock = self.clock.max(now);
        let now = self.clock;
        self.iface
            .poll(instant(now), &mut self.device, &mut self.sockets);
        self.take_accepted();
        self.watch();
        self.renew_listeners();
    }

    /// Listeners a SYN has taken become connections.
    fn take_accepted(&mut self) {
        let taken: Vec<(u16, SocketHandle)> = self
            .listeners
            .iter()
            .filter_map(|(port, socket)| Some((*port, (*socket)?)))
            .filter(|(_, socket)| {
                self.sockets.get::<tcp::Socket>(*socket).state() != TcpState::Listen
            })
            .collect();
        for (port, socket) in taken {
            self.track(socket, false);
            self.listeners.insert(port, None);
        }
    }

    /// Ports without a listener get one while there is room.
    fn renew_listeners(&mut self) {
        let idle: Vec<u16> = self
            .listeners
            .iter()
            .filter(|(_, socket)| socket.is_none())
            .map(|(port, _)| *port)
            .collect();
        for port in idle {
            if self.conns.len() >= MAX_CONNECTIONS {
                debug!(local = %self.config.local, port, "connection limit: not listening");
                return;
            }
            match self.listening_socket(port) {
                Ok(fresh) => {
                    self.listeners.insert(port, Some(fresh));
                }
                Err(e) => {
                    debug!(local = %self.config.local, port, error = %e, "listener not renewed");
                }
            }
        }
    }

    /// Compares every connection's state with what was last reported.
    fn watch(&mut self) {
        let mut finished = Vec::new();
        for (&handle, conn) in &mut self.conns {
            let socket = self.sockets.get_mut::<tcp::Socket>(conn.socket);
            let state = socket.state();
            if !conn.connected && !conn.outbound && state == TcpState::Listen {
                // RFC 9293 §3.10.7.4: a reset in SYN-RECEIVED sends a passive
                // open back to LISTEN. The port's listener has been renewed
                // already, so this one goes; nobody was told of it.
                socket.abort();
                finished.push(handle);
                continue;
            }
            if !conn.connected && !conn.closed && is_synchronized(state) {
                conn.connected = true;
                // From here on BGP's hold timer judges the peer.
                socket.set_timeout(None);
                if let (Some(local), Some(remote)) =
                    (socket.local_endpoint(), socket.remote_endpoint())
                {
                    self.events.push_back(TcpEvent::Connected {
                        handle,
                        local: v4(local),
                        remote: v4(remote),
                        outbound: conn.outbound,
                    });
                }
            }
            if conn.connected && !conn.readable && socket.can_recv() {
                conn.readable = true;
                self.events.push_back(TcpEvent::Readable { handle });
            }
            if conn.connected && !conn.peer_closed && fin_received(state) {
                conn.peer_closed = true;
                self.events.push_back(TcpEvent::PeerClosed { handle });
            }
            if !conn.closed && matches!(state, TcpState::Closed | TcpState::TimeWait) {
                conn.closed = true;
                let reason = if conn.aborted {
                    CloseReason::Aborted
                } else if !conn.connected {
                    CloseReason::ConnectFailed
                } else if state == TcpState::TimeWait
                    || matches!(conn.last, TcpState::LastAck | TcpState::Closing)
                {
                    CloseReason::Graceful
                } else {
                    CloseReason::Reset
                };
                // An inbound connection nobody was told of ends silently.
                if conn.connected || conn.outbound {
                    self.events.push_back(TcpEvent::Closed { handle, reason });
                }
            }
            conn.last = state;
            // TIME-WAIT keeps the socket to answer a repeated FIN; it goes
            // once the stack has closed it.
            if conn.closed && state == TcpState::Closed {
                finished.push(handle);
            }
        }
        for handle in finished {
            if let Some(conn) = self.conns.remove(&handle) {
                self.sockets.remove(conn.socket);
            }
        }
    }

    fn track(&mut self, socket: SocketHandle, outbound: bool) -> TcpHandle {
        let handle = TcpHandle(self.next_handle);
        self.next_handle += 1;
        let last = self.sockets.get::<tcp::Socket>(socket).state();
        self.conns.insert(
            handle,
            Conn {
                socket,
                outbound,
                connected: false,
                readable: false,
                peer_closed: false,
                closed: false,
                aborted: false,
                last,
            },
        );
        handle
    }

    fn listening_socket(&mut self, port: u16) -> Result<SocketHandle, TunnelIpError> {
        let mut socket = new_socket();
        socket.set_timeout(Some(HANDSHAKE_TIMEOUT));
        socket
            .listen(IpListenEndpoint {
                addr: Some(IpAddress::Ipv4(self.config.local)),
                port,
            })
            .map_err(|e| TunnelIpError::Listen(port, e))?;
        Ok(self.sockets.add(socket))
    }

    fn socket_mut(&mut self, handle: TcpHandle) -> Option<&mut tcp::Socket<'static>> {
        let conn = self.conns.get(&handle)?;
        Some(self.sockets.get_mut::<tcp::Socket>(conn.socket))
    }

    /// The next ephemeral port no connection or listener uses.
    fn ephemeral_port(&mut self) -> Result<u16, TunnelIpError> {
        for _ in 0..EPHEMERAL_COUNT {
            let port = self.next_port;
            self.next_port = if port == u16::MAX {
                EPHEMERAL_FIRST
            } else {
                port + 1
            };
            let in_use = self.listeners.contains_key(&port)
                || self.conns.values().any(|c| {
                    self.sockets
                        .get::<tcp::Socket>(c.socket)
                        .local_endpoint()
                        .is_some_and(|e| e.port == port)
                });
            if !in_use {
                return Ok(port);
            }
        }
        Err(TunnelIpError::NoPort)
    }
}

fn new_socket() -> tcp::Socket<'static> {
    let mut socket = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; BUFFER]),
        tcp::SocketBuffer::new(vec![0; BUFFER]),
    );
    // BGP writes whole messages and wants them out now, like the
    // TCP_NODELAY real speakers set.
    socket.set_nagle_enabled(false);
    socket
}

/// Past the handshake (RFC 9293 §3.3.2: the synchronized states).
fn is_synchronized(state: TcpState) -> bool {
    !matches!(
        state,
        TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::SynReceived
    )
}

/// States only reached after the peer's FIN.
fn fin_received(state: TcpState) -> bool {
    matches!(
        state,
        TcpState::CloseWait | TcpState::LastAck | TcpState::Closing | TcpState::TimeWait
    )
}

/// Some other host address on the inside network, if it has one (a /31
/// has two, RFC 3021; a /32 none).
fn on_link_neighbour(local: Ipv4Addr, prefix_len: u8) -> Option<Ipv4Addr> {
    let net = ipnet::Ipv4Net::new(local, prefix_len).ok()?;
    net.hosts().find(|a| *a != local)
}

fn v4(end: IpEndpoint) -> SocketAddrV4 {
    let IpAddress::Ipv4(addr) = end.addr;
    SocketAddrV4::new(addr, end.port)
}

fn instant(now: Duration) -> Instant {
    Instant::from_micros(i64::try_from(now.as_micros()).unwrap_or(i64::MAX))
}

fn duration(at: Instant) -> Duration {
    Duration::from_micros(u64::try_from(at.total_micros()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_route_points_at_the_other_end_of_the_inside_network() {
        let a = Ipv4Addr::new(169, 254, 10, 1);
        let b = Ipv4Addr::new(169, 254, 10, 2);
        assert_eq!(on_link_neighbour(a, 30), Some(b));
        assert_eq!(on_link_neighbour(b, 30), Some(a));
        assert_eq!(
            on_link_neighbour(Ipv4Addr::new(10, 0, 0, 1), 31),
            Some(Ipv4Addr::new(10, 0, 0, 0))
        );
        assert_eq!(on_link_neighbour(a, 32), None);
    }

    #[test]
    fn a_clock_stepping_back_is_held() {
        let mut ip = TunnelIp::new(TunnelIpConfig::new(Ipv4Addr::new(169, 254, 10, 1))).unwrap();
        ip.poll(Duration::from_secs(10));
        assert!(ip.poll(Duration::from_secs(1)).is_empty());
        assert_eq!(ip.clock, Duration::from_secs(10));
    }
}
