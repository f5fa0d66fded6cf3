//! External neighbours over the kernel's TCP on loopback (127.0.0.0/8,
//! ephemeral ports, no root). Test clients speak BGP by hand, byte by byte,
//! so they share no code with what they test.
//!
//! Real sockets need real time: these tests do not pause the clock. Hold
//! times are 90 s, so no timer fires during a run that takes milliseconds.

mod common;

use common::*;
use hybridlab_runtime::{Lab, LabOptions};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const MARKER: [u8; 16] = [0xff; 16];

/// Real time here: loopback answers in microseconds, so a few seconds
/// means something is wrong.
const REAL_PATIENCE: Duration = Duration::from_secs(10);

async fn soon<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(REAL_PATIENCE, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

fn message(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(19 + body.len()).unwrap_or(u16::MAX);
    let mut m = MARKER.to_vec();
    m.extend_from_slice(&len.to_be_bytes());
    m.push(msg_type);
    m.extend_from_slice(body);
    m
}

/// OPEN (RFC 4271 §4.2) with Multiprotocol IPv4 unicast (RFC 4760) and
/// 4-octet AS (RFC 6793) capabilities.
fn open(asn: u16, hold: u16, id: [u8; 4]) -> Vec<u8> {
    let caps: [u8; 14] = [
        1, 4, 0, 1, 0, 1, // MP: AFI 1, SAFI 1
        65, 4, 0, 0, 0, 0, // 4-octet AS, filled below
        0, 0,
    ];
    let mut caps = caps[..12].to_vec();
    caps[8..12].copy_from_slice(&u32::from(asn).to_be_bytes());
    let mut param = vec![2, u8::try_from(caps.len()).unwrap_or(0)];
    param.extend_from_slice(&caps);
    let mut body = vec![4];
    body.extend_from_slice(&asn.to_be_bytes());
    body.extend_from_slice(&hold.to_be_bytes());
    body.extend_from_slice(&id);
    body.push(u8::try_from(param.len()).unwrap_or(0));
    body.extend_from_slice(&param);
    message(1, &body)
}

fn keepalive() -> Vec<u8> {
    message(4, &[])
}

/// Reads one whole message: (type, body).
async fn read_message(s: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut header = [0u8; 19];
    s.read_exact(&mut header).await?;
    let len = usize::from(u16::from_be_bytes([header[16], header[17]]));
    let mut body = vec![0u8; len.saturating_sub(19)];
    s.read_exact(&mut body).await?;
    Ok((header[18], body))
}

async fn next_of_type(s: &mut TcpStream, msg_type: u8) -> Vec<u8> {
    soon("a message from hybridlab", async {
        loop {
            match read_message(s).await {
                Ok((t, body)) if t == msg_type => return body,
                Ok(_) => continue,
                Err(e) => panic!("connection failed while waiting for type {msg_type}: {e}"),
            }
        }
    })
    .await
}

/// Connects from `local` and completes the OPEN exchange.
async fn peer_up(local: IpAddr, to: SocketAddr, asn: u16, id: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap_or_else(|e| panic!("socket: {e}"));
    socket
        .bind(SocketAddr::new(local, 0))
        .unwrap_or_else(|e| panic!("bind {local}: {e}"));
    let mut s = socket
        .connect(to)
        .await
        .unwrap_or_else(|e| panic!("connect {to}: {e}"));
    s.write_all(&open(asn, 90, id))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let their_open = next_of_type(&mut s, 1).await;
    assert_eq!(their_open.first(), Some(&4), "BGP version 4");
    s.write_all(&keepalive())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    next_of_type(&mut s, KEEPALIVE).await;
    s
}

const TOPOLOGY: &str = r#"
[[router]]
name = "cloud"
asn = 64512
router_id = "10.0.0.1"
networks = ["10.10.0.0/16"]
listen = ["127.0.0.1:0"]
  [[router.neighbor]]
  name = "good"
  address = "127.0.0.2"
  remote_asn = 65002
  mode = "passive"
  [[router.neighbor]]
  name = "bad"
  address = "127.0.0.3"
  remote_asn = 65003
  mode = "passive"
"#;

async fn lab() -> (Lab, SocketAddr) {
    let mut lab = Lab::new(
        topology(TOPOLOGY),
        LabOptions {
            api: None,
            no_api: true,
        },
    );
    if let Err(e) = lab.start().await {
        panic!("{e}");
    }
    let addr = lab
        .listening("cloud")
        .first()
        .copied()
        .unwrap_or_else(|| panic!("cloud does not listen"));
    (lab, addr)
}

async fn state_of(lab: &Lab, neighbor: &str) -> String {
    lab.handle()
        .sessions()
        .await
        .into_iter()
        .find(|s| s.neighbor == neighbor)
        .map(|s| s.state)
        .unwrap_or_default()
}

/// One session gets garbage; the other must not notice.
async fn malformed_input_resets_only_its_session(garbage: Vec<u8>, code: u8, subcode: u8) {
    let (lab, addr) = lab().await;
    let mut good = peer_up(IpAddr::from([127, 0, 0, 2]), addr, 65002, [10, 0, 0, 2]).await;
    let mut bad = peer_up(IpAddr::from([127, 0, 0, 3]), addr, 65003, [10, 0, 0, 3]).await;
    bad.write_all(&garbage)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let notification = next_of_type(&mut bad, NOTIFICATION).await;
    assert_eq!(
        notification.get(..2),
        Some(&[code, subcode][..]),
        "NOTIFICATION code/subcode"
    );
    // hybridlab closes the broken session after its NOTIFICATION.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(REAL_PATIENCE, bad.read_to_end(&mut rest)).await;
    // A FIN, or a reset if the kernel still held unread bytes: either way
    // the connection ends, and promptly.
    assert!(closed.is_ok(), "the bad session is closed");
    // The good one still works: it answers a keepalive round and is Established.
    good.write_all(&keepalive())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state_of(&lab, "good").await, "Established");
    assert_ne!(state_of(&lab, "bad").await, "Established");
    lab.shutdown().await;
    // Shutdown says goodbye properly: Cease / Administrative Shutdown.
    let cease = next_of_type(&mut good, NOTIFICATION).await;
    assert_eq!(cease.get(..2), Some(&[6, 2][..]));
}

#[tokio::test]
async fn bad_marker_gets_connection_not_synchronized() {
    let mut garbage = keepalive();
    garbage[3] = 0; // RFC 4271 §6.1: the marker must be all ones.
    malformed_input_resets_only_its_session(garbage, 1, 1).await;
}

#[tokio::test]
async fn bad_attribute_list_gets_update_message_error() {
    // Total Path Attribute Length says 200 bytes, the message holds 4:
    // the NLRI cannot be located, so RFC 7606 §4 leaves only a session
    // reset: UPDATE Message Error / Malformed Attribute List.
    let body = [0, 0, 0, 200, 0x40, 1, 1, 0];
    malformed_input_resets_only_its_session(message(UPDATE, &body), 3, 1).await;
}

#[tokio::test]
async fn unknown_peers_are_hung_up_on() {
    let (lab, addr) = lab().await;
    let socket = TcpSocket::new_v4().unwrap_or_else(|e| panic!("{e}"));
    socket
        .bind(SocketAddr::new(IpAddr::from([127, 0, 0, 9]), 0))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut s = socket.connect(addr).await.unwrap_or_else(|e| panic!("{e}"));
    let mut buf = Vec::new();
    let read = soon("the listener to hang up", s.read_to_end(&mut buf)).await;
    assert!(
        read.is_err() || buf.is_empty(),
        "nothing but a close for an unconfigured peer"
    );
    lab.shutdown().await;
}
