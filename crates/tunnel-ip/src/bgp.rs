//! [`BgpTransport`]: one BGP session's connections over a [`TunnelIp`], in
//! the terms of the sans-IO BGP core (`hybridlab_bgp::session`): the core's
//! `Connect` / `Send` / `Close` outputs go in, its `Connected` /
//! `Received` / `Closed` / `ConnectFailed` inputs come out.
//!
//! It plays the part `router_task.rs` plays for kernel TCP: one outbound
//! attempt at a time (a new `Connect` abandons the last), inbound
//! connections accepted only from the peer's inside address, bytes the
//! send buffer cannot take yet queued in order, and a `Close` from the core
//! flushing what is queued before the FIN (the NOTIFICATION must get out).

use crate::endpoint::{TunnelIp, TunnelIpError};
use crate::event::{TcpEvent, TcpHandle};
use bytes::{Bytes, BytesMut};
use hybridlab_bgp::session::{ConnId, SessionInput, SessionOutput};
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use tracing::debug;

/// RFC 4271 §8.2.1: BGP listens on TCP port 179.
pub const BGP_PORT: u16 = 179;

/// What the adapter knows of one TCP connection.
#[derive(Debug, Default)]
struct Link {
    /// The core's name for it; `None` before `Connected` and after the core
    /// or the peer closed it.
    conn: Option<ConnId>,
    /// Bytes the send buffer could not take yet, oldest first.
    pending: VecDeque<Bytes>,
    /// The core closed it: FIN once `pending` is out.
    closing: bool,
}

#[derive(Debug)]
pub struct BgpTransport {
    peer: Ipv4Addr,
    links: BTreeMap<TcpHandle, Link>,
    by_conn: BTreeMap<ConnId, TcpHandle>,
    /// The outbound attempt in flight.
    attempt: Option<TcpHandle>,
}

impl BgpTransport {
    /// Serves the session with `peer` (its inside address) on `ip`, and
    /// listens on port 179 if `accept` (BGP's passive open, RFC 4271 §8.1.1).
    ///
    /// The transport takes every TCP event `ip` raises: one endpoint
    /// carries one BGP session, as one tunnel does.
    pub fn new(ip: &mut TunnelIp, peer: Ipv4Addr, accept: bool) -> Result<Self, TunnelIpError> {
        if accept {
            ip.listen(BGP_PORT)?;
        }
        Ok(BgpTransport {
            peer,
            links: BTreeMap::new(),
            by_conn: BTreeMap::new(),
            attempt: None,
        })
    }

    pub fn peer(&self) -> Ipv4Addr {
        self.peer
    }

    /// Carries out `action` if it is transport work (`Connect`, `Send`,
    /// `Close`); returns whether it was. Inputs for the core land in `out`.
    pub fn apply(
        &mut self,
        ip: &mut TunnelIp,
        action: &SessionOutput,
        out: &mut Vec<SessionInput>,
    ) -> bool {
        match action {
            SessionOutput::Connect => self.connect(ip, out),
            SessionOutput::Send { conn, data } => self.send(ip, *conn, data.clone()),
            SessionOutput::Close { conn } => self.close(ip, *conn),
            _ => return false,
        }
        true
    }

    /// Starts an outbound connection to the peer's port 179, abandoning
    /// an attempt still in flight (as the runtime does for kernel TCP).
    pub fn connect(&mut self, ip: &mut TunnelIp, out: &mut Vec<SessionInput>) {
        if let Some(old) = self.attempt.take() {
            ip.abort(old);
            self.links.remove(&old);
        }
        match ip.connect(self.peer, BGP_PORT) {
            Ok(handle) => {
                self.attempt = Some(handle);
                self.links.insert(handle, Link::default());
            }
            Err(e) => {
                debug!(peer = %self.peer, error = %e, "connect failed at once");
                out.push(SessionInput::ConnectFailed);
            }
        }
    }

    pub fn send(&mut self, ip: &mut TunnelIp, conn: ConnId, data: Bytes) {
        let Some(&handle) = self.by_conn.get(&conn) else {
            debug!(peer = %self.peer, conn, "send on a closed connection");
            return;
        };
        if let Some(link) = self.links.get_mut(&handle) {
            link.pending.push_back(data);
            flush(ip, handle, link);
        }
    }

    /// The core is done with `conn`: it hears nothing more of it. Queued
    /// bytes still go out, then the FIN.
    pub fn close(&mut self, ip: &mut TunnelIp, conn: ConnId) {
        let Some(handle) = self.by_conn.remove(&conn) else {
            return;
        };
        if let Some(link) = self.links.get_mut(&handle) {
            link.conn = None;
            link.closing = true;
            flush(ip, handle, link);
        }
    }

    /// Turns the endpoint's TCP events into inputs for the core and moves
    /// queued bytes into freed send buffers. Call after every `receive`
    /// and `poll` of the endpoint. `next_conn` names new connections
    /// (the runtime's lab-wide counter).
    pub fn pump(
        &mut self,
        ip: &mut TunnelIp,
        next_conn: &mut impl FnMut() -> ConnId,
        out: &mut Vec<SessionInput>,
    ) {
        while let Some(event) = ip.next_event() {
            self.event(ip, event, next_conn, out);
        }
        for (&handle, link) in &mut self.links {
            flush(ip, handle, link);
        }
    }

    fn event(
        &mut self,
        ip: &mut TunnelIp,
        event: TcpEvent,
        next_conn: &mut impl FnMut() -> ConnId,
        out: &mut Vec<SessionInput>,
    ) {
        match event {
            TcpEvent::Connected {
                handle,
                local,
                remote,
                outbound,
            } => {
                let wanted = if outbound {
                    self.attempt == Some(handle)
                } else {
                    // Only the far end of the tunnel may open the session.
                    *remote.ip() == self.peer
                };
                if !wanted {
                    debug!(peer = %self.peer, %remote, outbound, "unwanted connection reset");
                    ip.abort(handle);
                    self.links.remove(&handle);
                    return;
                }
                if outbound {
                    self.attempt = None;
                }
                let conn = next_conn();
                self.links.entry(handle).or_default().conn = Some(conn);
                self.by_conn.insert(conn, handle);
                out.push(SessionInput::Connected {
                    conn,
                    outbound,
                    local: IpAddr::V4(*local.ip()),
                    remote: IpAddr::V4(*remote.ip()),
                });
            }
            TcpEvent::Readable { handle } => {
                let data = drain(ip, handle);
                // Bytes after the core closed the connection go nowhere.
                if let Some(conn) = self.links.get(&handle).and_then(|l| l.conn) {
                    if !data.is_empty() {
                        out.push(SessionInput::Received { conn, data });
                    }
                }
            }
            TcpEvent::PeerClosed { handle } => {
                // The peer's FIN is the end of the session's transport, as
                // EOF is on a kernel socket; our FIN follows.
                if let Some(link) = self.links.get_mut(&handle) {
                    if let Some(conn) = link.conn.take() {
                        self.by_conn.remove(&conn);
                        out.push(SessionInput::Closed { conn });
                    }
                    link.pending.clear();
                    link.closing = true;
                }
                ip.close(handle);
            }
            TcpEvent::Closed { handle, .. } => {
                let link = self.links.remove(&handle);
                if self.attempt == Some(handle) {
                    self.attempt = None;
                    out.push(SessionInput::ConnectFailed);
                } else if let Some(conn) = link.and_then(|l| l.conn) {
                    self.by_conn.remove(&conn);
                    out.push(SessionInput::Closed { conn });
                }
            }
        }
    }
}

/// Moves queued bytes into the send buffer, as much as fits; the FIN goes
/// once nothing is left when the core has closed.
fn flush(ip: &mut TunnelIp, handle: TcpHandle, link: &mut Link) {
    while let Some(front) = link.pending.front_mut() {
        let n = ip.send(handle, front);
        if n == front.len() {
            link.pending.pop_front();
        } else {
            *front = front.slice(n..);
            return;
        }
    }
    if link.closing {
        ip.close(handle);
    }
}

fn drain(ip: &mut TunnelIp, handle: TcpHandle) -> Bytes {
    let mut data = BytesMut::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = ip.recv(handle, &mut buf);
        if n == 0 {
            return data.freeze();
        }
        data.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
}
