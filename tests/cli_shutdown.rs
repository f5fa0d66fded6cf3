//! `hybridlab run` as a user runs it: a real BGP peer (this test, on
//! loopback) sees the session come up, and Ctrl-C ends the lab with Cease /
//! Administrative Shutdown (RFC 4486 subcode 2) to every peer and exit 0.
//! Unprivileged: loopback only, an ephemeral port.

use bytes::BytesMut;
use hybridlab_bgp::packet::{
    decode_message, encode_message, Capability, CodecContext, FrameReader, Message, Open,
};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the lab if the test fails before stopping it.
struct Lab(Option<Child>);

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn send(stream: &mut TcpStream, msg: &Message) {
    let mut buf = BytesMut::new();
    encode_message(
        msg,
        &CodecContext {
            four_octet_as: true,
        },
        &mut buf,
    );
    stream.write_all(&buf).expect("write to hybridlab");
}

/// Reads until a whole message arrives or the peer closes (`None`).
fn next(stream: &mut TcpStream, frames: &mut FrameReader) -> Option<Message> {
    let ctx = CodecContext {
        four_octet_as: true,
    };
    loop {
        if let Some(frame) = frames.next_frame().expect("hybridlab sends valid frames") {
            return Some(decode_message(&frame, &ctx).expect("valid message").message);
        }
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => frames.push(&buf[..n]),
            Err(e) => panic!("reading from hybridlab: {e}"),
        }
    }
}

#[test]
fn ctrl_c_sends_cease_administrative_shutdown_and_exits_zero() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let api = 40_000 + std::process::id() % 20_000;
    let dir = std::env::temp_dir().join(format!("hybridlab-cli-shutdown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let topology = dir.join("lab.toml");
    std::fs::write(
        &topology,
        format!(
            r#"
[lab]
api = "127.0.0.1:{api}"

[[router]]
name = "cloud"
asn = 64512
router_id = "10.0.0.1"
networks = ["10.10.0.0/16"]
  [[router.neighbor]]
  name = "peer"
  address = "127.0.0.1"
  port = {port}
  remote_asn = 65000
  mode = "active"
  connect_retry = 1
"#
        ),
    )
    .expect("write topology");

    let mut lab = Lab(Some(
        Command::new(env!("CARGO_BIN_EXE_hybridlab"))
            .args(["run", topology.to_str().expect("utf-8 path")])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hybridlab"),
    ));

    // hybridlab connects to us: a bounded wait on a blocking accept.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(listener.accept().map(|(s, _)| s));
    });
    let mut stream = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("hybridlab never connected")
        .expect("accept");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let mut frames = FrameReader::new();

    let Some(Message::Open(theirs)) = next(&mut stream, &mut frames) else {
        panic!("hybridlab's first message is not an OPEN");
    };
    assert_eq!(theirs.asn(), 64512);
    let ours = Open {
        version: 4,
        my_as: 65000,
        hold_time: 90,
        bgp_id: Ipv4Addr::new(10, 0, 0, 2),
        // Its capabilities back, with our own AS in the 4-octet one.
        capabilities: theirs
            .capabilities
            .iter()
            .map(|c| match c {
                Capability::FourOctetAs(_) => Capability::FourOctetAs(65000),
                other => other.clone(),
            })
            .collect(),
        unknown_parameters: Vec::new(),
    };
    send(&mut stream, &Message::Open(ours));
    send(&mut stream, &Message::Keepalive);
    // Established: its KEEPALIVE, then its route.
    let mut saw_update = false;
    while !saw_update {
        match next(&mut stream, &mut frames) {
            Some(Message::Update(u)) => saw_update = u.announced().next().is_some(),
            Some(Message::Keepalive) => {}
            other => panic!("before Ctrl-C: {other:?}"),
        }
    }

    // Ctrl-C.
    let pid = lab
        .0
        .as_ref()
        .map(Child::id)
        .expect("the lab is running")
        .to_string();
    let status = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("run kill");
    assert!(status.success());

    let mut cease = None;
    while let Some(msg) = next(&mut stream, &mut frames) {
        if let Message::Notification(n) = msg {
            cease = Some(n);
        }
    }
    let cease = cease.expect("a NOTIFICATION before the close");
    assert_eq!((cease.code, cease.subcode), (6, 2), "{cease}");

    // The lab exits by itself: wait for it in a thread, bounded.
    let mut child = lab.0.take().expect("the lab is running");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let exit = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("hybridlab did not exit")
        .expect("wait for hybridlab");
    assert!(exit.success(), "exit status {exit}");
    let _ = std::fs::remove_dir_all(&dir);
}
