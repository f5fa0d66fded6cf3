//! Kernel UDP for a tunnel whose far end is a real router: one socket on
//! UDP 500 (IKE) and one on UDP 4500 (NAT-T: IKE after the float, and ESP
//! in UDP, RFC 3948) per outside address, and a reader task per socket
//! that hands every datagram to the tunnel's router task.

use crate::router_task::{Event, Inbox};
use bytes::{Bytes, BytesMut};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

pub(crate) const IKE_PORT: u16 = 500;
pub(crate) const NAT_T_PORT: u16 = 4500;
/// Larger than any IKE message or ESP packet the tunnel carries (its MTU
/// is 1 500 and ESP adds well under 100 octets).
const MAX_DATAGRAM: usize = 4096;

/// The two sockets of one outside address.
#[derive(Clone, Debug)]
pub(crate) struct UdpPair {
    pub ike: Arc<UdpSocket>,
    pub nat_t: Arc<UdpSocket>,
}

impl UdpPair {
    /// Binds UDP 500 and 4500 on `local`. Ports below 1024 need root,
    /// CAP_NET_BIND_SERVICE or `net.ipv4.ip_unprivileged_port_start=0`.
    pub(crate) fn bind(local: IpAddr) -> Result<Self, (SocketAddr, io::Error)> {
        let one = |port| {
            let addr = SocketAddr::new(local, port);
            std::net::UdpSocket::bind(addr)
                .and_then(|s| {
                    s.set_nonblocking(true)?;
                    UdpSocket::from_std(s)
                })
                .map(Arc::new)
                .map_err(|e| (addr, e))
        };
        Ok(UdpPair {
            ike: one(IKE_PORT)?,
            nat_t: one(NAT_T_PORT)?,
        })
    }

    /// Sends from the socket of `from`'s port.
    pub(crate) fn send(&self, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        let socket = if from.port() == NAT_T_PORT {
            &self.nat_t
        } else {
            &self.ike
        };
        if let Err(e) = socket.try_send_to(bytes, to) {
            debug!(%from, %to, error = %e, "tunnel datagram not sent");
        }
    }

    /// A reader per socket, delivering to neighbour `slot` of the router
    /// behind `inbox`. Datagrams from any address are delivered: the IKE
    /// peer follows the customer through NAT (RFC 3947) and drops what it
    /// cannot authenticate.
    pub(crate) fn spawn_readers(&self, slot: usize, inbox: Inbox) -> Vec<JoinHandle<()>> {
        [self.ike.clone(), self.nat_t.clone()]
            .into_iter()
            .map(|socket| {
                let inbox = inbox.clone();
                tokio::spawn(async move {
                    let to = match socket.local_addr() {
                        Ok(a) => a,
                        Err(e) => {
                            warn!(error = %e, "tunnel socket has no address");
                            return;
                        }
                    };
                    let mut buf = BytesMut::zeroed(MAX_DATAGRAM);
                    loop {
                        let (n, from) = match socket.recv_from(&mut buf).await {
                            Ok(x) => x,
                            Err(e) => {
                                debug!(%to, error = %e, "tunnel socket read failed");
                                continue;
                            }
                        };
                        let bytes = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
                        let event = Event::TunnelUdp {
                            slot,
                            from,
                            to,
                            bytes,
                        };
                        if inbox.send(event).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect()
    }
}
