//! Two labs peer over loopback TCP as external neighbours of each other,
//! with TCP MD5 signatures (RFC 2385): matching keys establish, a wrong key
//! never gets a segment through. Real time; skipped where the kernel lacks
//! TCP_MD5SIG.

mod common;

use common::*;
use hybridlab_runtime::{Lab, LabOptions};
use std::time::Duration;

fn kernel_has_md5() -> bool {
    let Ok(socket) = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
    else {
        return false;
    };
    // An all-zero tcp_md5sig with an AF_INET address and a 1-byte key.
    let mut sig = [0u8; 216];
    sig[0] = 2; // AF_INET, little-endian sa_family
    sig[130] = 1; // keylen
    sig[136] = b'k';
    let len = libc::socklen_t::try_from(sig.len()).unwrap_or(0);
    // SAFETY: a valid socket and a buffer of `len` bytes.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&socket),
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            sig.as_ptr().cast(),
            len,
        )
    };
    rc == 0
}

async fn start_lab(text: &str) -> Lab {
    let mut lab = Lab::new(
        topology(text),
        LabOptions {
            api: None,
            no_api: true,
        },
    );
    lab.start().await.unwrap_or_else(|e| panic!("{e}"));
    lab
}

/// `server` listens on 127.0.0.1 for 127.0.0.2; `client` connects from
/// 127.0.0.2. Returns the client's session state after a while.
async fn pair(server_key: &str, client_key: &str) -> (Lab, Lab) {
    let server = start_lab(&format!(
        r#"
[[router]]
name = "server"
asn = 65001
router_id = "10.0.0.1"
networks = ["10.1.0.0/16"]
listen = ["127.0.0.1:0"]
  [[router.neighbor]]
  name = "client"
  address = "127.0.0.2"
  remote_asn = 65002
  mode = "passive"
  md5_password = "{server_key}"
"#
    ))
    .await;
    let port = server
        .listening("server")
        .first()
        .map(|a| a.port())
        .unwrap_or(0);
    let client = start_lab(&format!(
        r#"
[[router]]
name = "client"
asn = 65002
router_id = "10.0.0.2"
  [[router.neighbor]]
  name = "server"
  address = "127.0.0.1"
  port = {port}
  local_address = "127.0.0.2"
  remote_asn = 65001
  mode = "active"
  connect_retry = 1
  md5_password = "{client_key}"
"#
    ))
    .await;
    (server, client)
}

async fn state(lab: &Lab) -> String {
    lab.handle()
        .sessions()
        .await
        .first()
        .map(|s| s.state.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn matching_keys_establish() {
    if !kernel_has_md5() {
        eprintln!("skipped: kernel without TCP_MD5SIG");
        return;
    }
    let (server, client) = pair("s3cret", "s3cret").await;
    let mut events = client.events();
    let deadline = tokio::time::timeout(Duration::from_secs(10), async {
        while state(&client).await != "Established" {
            let _ = tokio::time::timeout(Duration::from_millis(200), events.recv()).await;
        }
    })
    .await;
    assert!(deadline.is_ok(), "MD5-signed session did not come up");
    assert_eq!(state(&server).await, "Established");
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_key_never_connects() {
    if !kernel_has_md5() {
        eprintln!("skipped: kernel without TCP_MD5SIG");
        return;
    }
    let (server, client) = pair("s3cret", "wrong").await;
    let mut events = client.events();
    // The server's kernel drops every badly signed SYN: each attempt hangs
    // until ConnectRetry (1 s) starts the next one. Three attempts in, the
    // session must still be down.
    let mut attempts = 0;
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while attempts < 3 {
            match events.recv().await {
                Some(e) if e.kind == hybridlab_runtime::LabEventKind::ConnectAttempt => {
                    attempts += 1
                }
                Some(_) => {}
                None => break,
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the client stopped retrying");
    assert_ne!(state(&client).await, "Established");
    assert_ne!(state(&server).await, "Established");
    client.shutdown().await;
    server.shutdown().await;
}
