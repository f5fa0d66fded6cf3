//! The examples' UDP plumbing: kernel sockets on 500 and 4500, each read
//! by a thread of its own into one channel, so that the single-threaded
//! peer loop sees every datagram with the address it arrived on.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::Sender;

/// (from, to, bytes) of one received datagram.
pub type Datagram = (SocketAddr, SocketAddr, Vec<u8>);

/// Binds `addr` and forwards what arrives there to `tx` until the channel
/// closes; the socket, for sending.
pub fn bind_and_read(addr: SocketAddr, tx: &Sender<Datagram>) -> io::Result<UdpSocket> {
    let sock = UdpSocket::bind(addr)?;
    let reader = sock.try_clone()?;
    let tx = tx.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        while let Ok((n, from)) = reader.recv_from(&mut buf) {
            if tx.send((from, addr, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    });
    Ok(sock)
}
