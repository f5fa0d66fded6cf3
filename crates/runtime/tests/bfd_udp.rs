//! BFD to external neighbours over the kernel's UDP on loopback (RFC 5881):
//! two labs peer on 127.31.0.1 and 127.31.0.2, port 3784 (no root needed),
//! while a test socket throws bad packets at one of them. Packets are built
//! by hand, byte by byte, so the test shares no code with what it tests.
//!
//! Real sockets need real time: these tests do not pause the clock.

mod common;

use common::*;
use hybridlab_runtime::view::{BfdReply, BfdView};
use hybridlab_runtime::{Lab, LabOptions};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLOUD: &str = "127.31.0.1";
const ONPREM: &str = "127.31.0.2";
const STRANGER: &str = "127.31.0.9";

/// BFD comes Up in about a second (slow packets while Down); ten is
/// plenty.
const REAL_PATIENCE: Duration = Duration::from_secs(10);

fn side(name: &str, me: &str, peer: &str, api: &str) -> String {
    // BGP connects to a port where nothing listens: refused, backing off,
    // and out of the way; BFD runs regardless.
    format!(
        r#"
[lab]
api = "{api}"
[[router]]
name = "{name}"
asn = 65001
router_id = "10.0.0.1"
  [[router.neighbor]]
  name = "peer"
  address = "{peer}"
  port = 9
  local_address = "{me}"
  remote_asn = 65002
  mode = "active"
  bfd = true
"#
    )
}

async fn lab(text: &str, no_api: bool) -> Lab {
    let mut lab = Lab::new(topology(text), LabOptions { api: None, no_api });
    if let Err(e) = lab.start().await {
        panic!("lab did not start: {e}");
    }
    lab
}

/// `GET path` over HTTP/1.1, the body as JSON.
async fn get(addr: SocketAddr, path: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let req = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut raw = String::new();
    s.read_to_string(&mut raw)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    raw.split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null)
}

async fn bfd(addr: SocketAddr) -> BfdReply {
    serde_json::from_value(get(addr, "/api/v1/bfd").await).unwrap_or_else(|e| panic!("{e}"))
}

async fn session(addr: SocketAddr) -> BfdView {
    bfd(addr)
        .await
        .bfd
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no BFD session"))
}

/// RFC 5880 §4.1, without authentication.
fn control(version: u8, state: u8, mult: u8, my: u32, your: u32) -> Vec<u8> {
    let mut p = vec![version << 5, state << 6, mult, 24];
    p.extend_from_slice(&my.to_be_bytes());
    p.extend_from_slice(&your.to_be_bytes());
    p.extend_from_slice(&1_000_000u32.to_be_bytes());
    p.extend_from_slice(&1_000_000u32.to_be_bytes());
    p.extend_from_slice(&0u32.to_be_bytes());
    p
}

const DOWN: u8 = 1;
const UP: u8 = 3;

#[tokio::test]
async fn bad_packets_are_counted_by_reason_while_the_session_stays_up() {
    let cloud = lab(&side("cloud", CLOUD, ONPREM, "127.0.0.1:0"), false).await;
    let onprem = lab(&side("onprem", ONPREM, CLOUD, "127.0.0.1:0"), true).await;
    let api = cloud.api_addr().unwrap_or_else(|| panic!("no API"));

    let up = tokio::time::timeout(REAL_PATIENCE, async {
        loop {
            let s = session(api).await;
            if s.state == "Up" {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("BFD never came Up on loopback"));
    assert_eq!(up.kind, "external");
    assert_eq!(
        up.peer_address.map(|a| a.to_string()).as_deref(),
        Some(ONPREM)
    );
    assert_eq!(
        up.local_address.map(|a| a.to_string()).as_deref(),
        Some(CLOUD)
    );
    assert_eq!(up.counters.dropped_total, 0, "{up:?}");

    // From the peer's own address, so the drops count against its session.
    let raw = UdpSocket::bind((ONPREM, 0)).unwrap_or_else(|e| panic!("{e}"));
    raw.set_ttl(255).unwrap_or_else(|e| panic!("{e}"));
    let to = (CLOUD, 3784);
    let send = |p: &[u8]| {
        raw.send_to(p, to).unwrap_or_else(|e| panic!("{e}"));
    };
    send(&control(2, DOWN, 3, 77, 0));
    send(&control(1, DOWN, 3, 77, 0)[..10]);
    send(&control(1, DOWN, 0, 77, 0));
    send(&control(1, UP, 3, 77, 0));
    send(&control(1, DOWN, 3, 77, 0xdead_beef));
    raw.set_ttl(64).unwrap_or_else(|e| panic!("{e}"));
    send(&control(1, DOWN, 3, 77, 0));
    // And from an address no session has.
    let stranger = UdpSocket::bind((STRANGER, 0)).unwrap_or_else(|e| panic!("{e}"));
    stranger.set_ttl(255).unwrap_or_else(|e| panic!("{e}"));
    stranger
        .send_to(&control(1, DOWN, 3, 78, 0), to)
        .unwrap_or_else(|e| panic!("{e}"));

    let reasons = [
        "bad_version",
        "short_length",
        "zero_multiplier",
        "zero_your_discriminator",
        "unknown_discriminator",
        "low_ttl",
    ];
    let reply = tokio::time::timeout(REAL_PATIENCE, async {
        loop {
            let r = bfd(api).await;
            let s = r.bfd.first().cloned().unwrap_or_default();
            let strangers = r
                .routers
                .first()
                .and_then(|u| u.unattributed_drops.get("unknown_peer").copied());
            if s.counters.dropped_total >= 6 && strangers == Some(1) {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the bad packets were not all counted"));
    let s = &reply.bfd[0];
    for reason in reasons {
        assert_eq!(s.counters.dropped.get(reason), Some(&1), "{reason}: {s:?}");
    }
    assert_eq!(s.counters.dropped_total, 6, "{s:?}");
    assert_eq!(reply.routers[0].router, "cloud");
    assert_eq!(
        reply.routers[0].unattributed_drops.values().sum::<u64>(),
        1,
        "{reply:?}"
    );
    // The JSON a script reads has the documented names.
    let json = get(api, "/api/v1/bfd").await;
    assert_eq!(json["bfd"][0]["counters"]["dropped"]["low_ttl"], 1);
    assert_eq!(json["routers"][0]["unattributed_drops"]["unknown_peer"], 1);

    // The real session never noticed: Up, once, never failed, on both sides.
    let s = session(api).await;
    assert_eq!((s.state.as_str(), s.remote_state.as_str()), ("Up", "Up"));
    assert_eq!((s.counters.up_transitions, s.counters.failures), (1, 0));
    let (far, _) = onprem.handle().bfd().await;
    let far = far.first().cloned().unwrap_or_default();
    assert_eq!(far.state, "Up");
    assert_eq!((far.counters.up_transitions, far.counters.failures), (1, 0));
    assert_eq!(far.remote_discriminator, s.local_discriminator);

    onprem.shutdown().await;
    cloud.shutdown().await;
}
