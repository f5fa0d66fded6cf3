//! bgp-feeder end to end over loopback against a minimal peer that counts
//! the prefixes it receives and publishes the count in a file, which the
//! feeder's count command reads.

use hybridlab_bench::feeder::{self, FeederConfig, FeederError};
use hybridlab_bench::table::AttrMode;
use hybridlab_bench::wire::{self, HEADER_LEN, KEEPALIVE, NOTIFICATION, OPEN, UPDATE};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

fn read_message(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut header = [0u8; HEADER_LEN];
    s.read_exact(&mut header).ok()?;
    let (kind, len) = wire::parse_header(&header).ok()??;
    let mut body = vec![0u8; len - HEADER_LEN];
    s.read_exact(&mut body).ok()?;
    Some((kind, body))
}

/// Accepts one session, counts NLRI, writes the count to `count_file` once
/// it reaches `publish_at`, and returns what ended the session.
fn fake_peer(
    listener: TcpListener,
    count_file: PathBuf,
    publish_at: usize,
) -> thread::JoinHandle<(usize, Vec<u8>)> {
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        assert_eq!(read_message(&mut s).unwrap().0, OPEN);
        s.write_all(&wire::open(64512, 90, Ipv4Addr::new(10, 0, 0, 1)))
            .unwrap();
        s.write_all(&wire::keepalive()).unwrap();
        assert_eq!(read_message(&mut s).unwrap().0, KEEPALIVE);
        let mut count = 0usize;
        loop {
            match read_message(&mut s) {
                Some((UPDATE, body)) => {
                    let attrs = u16::from_be_bytes([body[2], body[3]]) as usize;
                    count += (body.len() - 4 - attrs) / 4;
                    if count >= publish_at {
                        std::fs::write(&count_file, format!("{count}\n")).unwrap();
                    }
                }
                Some((NOTIFICATION, body)) => return (count, body),
                Some(_) => {}
                None => return (count, Vec::new()),
            }
        }
    })
}

fn config(port: u16, prefixes: u32, count_file: &std::path::Path) -> FeederConfig {
    FeederConfig {
        connect: format!("127.0.0.1:{port}").parse().unwrap(),
        local_as: 65100,
        router_id: Ipv4Addr::new(10, 255, 0, 1),
        hold_time: 90,
        next_hop: Ipv4Addr::new(127, 0, 0, 1),
        prefixes,
        first_prefix: Ipv4Addr::new(16, 0, 0, 0),
        attrs: AttrMode::PerUpdate,
        count_cmd: Some(format!("cat {} 2>/dev/null", count_file.display())),
        poll: Duration::from_millis(1),
        timeout: Duration::from_secs(60),
    }
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("bgp-feeder-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn feeds_the_whole_table_times_it_and_ceases_politely() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let file = scratch("whole");
    let peer = fake_peer(listener, file.clone(), 50_000);

    let report = feeder::run(&config(port, 50_000, &file)).unwrap();
    let (received, notification) = peer.join().unwrap();
    let _ = std::fs::remove_file(&file);

    assert_eq!(received, 50_000);
    assert_eq!(report.prefixes, 50_000);
    assert_eq!(report.updates, 50);
    assert!(report.ingest.unwrap() >= report.send, "{report:?}");
    // Cease / Administrative Shutdown (RFC 4486).
    assert_eq!(notification, [6, 2]);
    assert!(report
        .to_json()
        .starts_with("{\"prefixes\":50000,\"updates\":50,"));
}

#[test]
fn a_peer_that_never_holds_the_table_times_out_with_the_last_count() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let file = scratch("short");
    std::fs::write(&file, "7\n").unwrap();
    // Never publishes: the count stays at 7.
    let peer = fake_peer(listener, file.clone(), usize::MAX);

    let mut cfg = config(port, 2_000, &file);
    cfg.timeout = Duration::from_millis(200);
    let err = feeder::run(&cfg).unwrap_err();
    let _ = peer.join();
    let _ = std::fs::remove_file(&file);
    assert!(
        matches!(
            err,
            FeederError::Timeout {
                want: 2_000,
                last: 7,
                ..
            }
        ),
        "{err}"
    );
}
