//! Kernel TCP for external neighbours: listeners, outbound connections,
//! and the reader/writer tasks of each connection. Every byte goes through
//! the [`Wire`] on its way in or out.

use crate::router_task::{Event, Inbox};
use crate::sockopt::{md5_peer_for, set_md5, set_ttl};
use crate::wire::{LinkId, Wire, WireEventKind};
use bytes::{Bytes, BytesMut};
use hybridlab_bgp::session::ConnId;
use socket2::{Domain, SockRef, Socket, Type};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::{AbortHandle, JoinHandle};
use tracing::{debug, info, warn};

/// Largest read at once; BGP messages are at most 4096 bytes (RFC 4271 §4.1)
/// and the session's framer reassembles them.
const READ_CHUNK: usize = 16 * 1024;
/// Reads a connection may have queued for its router task before it stops
/// reading. Past it the kernel's receive window pushes back on the peer, so
/// a peer faster than the router (or a hostile one) costs socket buffer,
/// not heap: at most this × `READ_CHUNK` in flight per connection.
pub(crate) const MAX_QUEUED_CHUNKS: usize = 64;
const LISTEN_BACKLOG: i32 = 128;

/// Opens a session's outbound connection: socket options first (RFC 2385
/// needs the key before the SYN), then `connect`.
pub(crate) async fn connect(
    remote: SocketAddr,
    local: Option<IpAddr>,
    ttl: u8,
    md5: Option<&str>,
) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(remote), Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.set_nodelay(true)?;
    set_ttl(SockRef::from(&socket), remote.is_ipv6(), ttl)?;
    if let Some(password) = md5 {
        set_md5(SockRef::from(&socket), remote.ip(), password)?;
    }
    if let Some(local) = local {
        socket.bind(&SocketAddr::new(local, 0).into())?;
    }
    let std_stream: std::net::TcpStream = socket.into();
    TcpSocket::from_std_stream(std_stream).connect(remote).await
}

/// Who may connect to one listening address, and how their sockets are set up.
#[derive(Clone, Debug)]
pub(crate) struct Acceptable {
    pub neighbor: usize,
    pub name: String,
    pub ttl: u8,
    pub md5: Option<String>,
    pub accepts: bool,
}

/// Binds a listener, with the MD5 key of every peer that may use it.
pub(crate) fn bind_listener(
    addr: SocketAddr,
    peers: &HashMap<IpAddr, Acceptable>,
) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    for (peer, p) in peers {
        if let (Some(password), Some(keyed)) = (&p.md5, md5_peer_for(addr.is_ipv6(), *peer)) {
            set_md5(SockRef::from(&socket), keyed, password)?;
        }
    }
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// Accepts connections for one router; matches each to a neighbour by the
/// peer's address. Unknown peers, and neighbours that only connect, are
/// hung up on.
pub(crate) fn spawn_listener(
    router: String,
    listener: TcpListener,
    peers: HashMap<IpAddr, Acceptable>,
    inbox: Inbox,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (stream, from) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    warn!(%router, error = %e, "accept failed");
                    continue;
                }
            };
            let from_ip = from.ip().to_canonical();
            let Some(p) = peers.get(&from_ip).filter(|p| p.accepts) else {
                info!(%router, peer = %from, "closing connection from an unconfigured peer");
                drop(stream);
                continue;
            };
            let tuned = stream.set_nodelay(true).and_then(|()| {
                set_ttl(
                    SockRef::from(&stream),
                    from.is_ipv6() && from_ip.is_ipv6(),
                    p.ttl,
                )
            });
            if let Err(e) = tuned {
                warn!(%router, neighbor = %p.name, error = %e, "cannot set socket options");
            }
            debug!(%router, neighbor = %p.name, peer = %from, "accepted");
            if inbox
                .send(Event::TcpInbound {
                    neighbor: p.neighbor,
                    stream,
                })
                .is_err()
            {
                return;
            }
        }
    })
}

/// The router's handles on one connection's I/O tasks.
pub(crate) struct ConnectionIo {
    /// Bytes to write, already passed through the wire. Dropping it flushes
    /// and shuts the socket down.
    pub tx: mpsc::UnboundedSender<Bytes>,
    pub reader: AbortHandle,
    pub writer: JoinHandle<()>,
}

pub(crate) fn spawn_connection(
    stream: TcpStream,
    conn: ConnId,
    link: LinkId,
    wire: Wire,
    inbox: Inbox,
) -> ConnectionIo {
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    let writer = tokio::spawn(async move {
        while let Some(data) = rx.recv().await {
            if let Err(e) = wr.write_all(&data).await {
                debug!(conn, error = %e, "write failed");
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    let reader = tokio::spawn(async move {
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        let credits = Arc::new(Semaphore::new(MAX_QUEUED_CHUNKS));
        loop {
            let Ok(credit) = Arc::clone(&credits).acquire_owned().await else {
                break;
            };
            buf.reserve(READ_CHUNK);
            match rd.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let data = buf.split().freeze();
                    if wire.transmit(&link, None, WireEventKind::Data(data.clone()))
                        && inbox
                            .send(Event::Received {
                                conn,
                                data,
                                credit: Some(credit),
                            })
                            .is_err()
                    {
                        return;
                    }
                }
            }
        }
        if wire.transmit(&link, None, WireEventKind::Close) {
            let _ = inbox.send(Event::Closed { conn });
        }
    });
    ConnectionIo {
        tx,
        reader: reader.abort_handle(),
        writer,
    }
}
