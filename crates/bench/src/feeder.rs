//! One BGP session that feeds the table and times its ingestion.
//!
//! The clock starts as the first UPDATE is handed to the kernel and stops
//! when the probe command first prints a count of at least the table size.
//! A reader thread drains what the peer sends (so its writes never block)
//! and stops everything at a NOTIFICATION; a keepalive thread holds the
//! session up while the peer digests.

use crate::table::{self, AttrMode, TableSpec};
use crate::wire::{self, WireError, HEADER_LEN, KEEPALIVE, NOTIFICATION, OPEN};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct FeederConfig {
    pub connect: SocketAddr,
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    pub hold_time: u16,
    pub next_hop: Ipv4Addr,
    pub prefixes: u32,
    pub first_prefix: Ipv4Addr,
    pub attrs: AttrMode,
    /// Shell command printing the peer's prefix count; `None`: only send.
    pub count_cmd: Option<String>,
    pub poll: Duration,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum FeederError {
    #[error("connect to {0}: {1}")]
    Connect(SocketAddr, std::io::Error),
    #[error("session I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("peer sent a bad message: {0}")]
    Wire(#[from] WireError),
    #[error("table: {0}")]
    Table(#[from] table::TableError),
    #[error("peer sent NOTIFICATION {0}")]
    Notification(String),
    #[error("peer closed the session")]
    Closed,
    #[error("expected {expected} before Established, got message type {got}")]
    Unexpected { expected: &'static str, got: u8 },
    #[error("count command `{cmd}`: {reason}")]
    Probe { cmd: String, reason: String },
    #[error("peer had {last} of {want} prefixes after {waited:?}")]
    Timeout {
        want: u32,
        last: u64,
        waited: Duration,
    },
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub prefixes: u32,
    pub updates: usize,
    pub bytes: usize,
    /// First UPDATE to last byte written.
    pub send: Duration,
    /// First UPDATE to the probe seeing the whole table.
    pub ingest: Option<Duration>,
    pub probes: u32,
}

impl Report {
    /// One JSON object on one line, for scripts.
    pub fn to_json(&self) -> String {
        let ingest = self
            .ingest
            .map(|d| format!("{:.6}", d.as_secs_f64()))
            .unwrap_or_else(|| "null".to_string());
        format!(
            "{{\"prefixes\":{},\"updates\":{},\"bytes\":{},\"send_secs\":{:.6},\"ingest_secs\":{ingest},\"probes\":{}}}",
            self.prefixes,
            self.updates,
            self.bytes,
            self.send.as_secs_f64(),
            self.probes
        )
    }
}

/// Reads one whole message; `Ok(None)` at a clean end of stream.
fn read_message(stream: &mut TcpStream) -> Result<Option<(u8, Vec<u8>)>, FeederError> {
    let mut header = [0u8; HEADER_LEN];
    match stream.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let (kind, len) = wire::parse_header(&header)?.ok_or(WireError::BadLength(0))?;
    let mut body = vec![0u8; len - HEADER_LEN];
    stream.read_exact(&mut body)?;
    Ok(Some((kind, body)))
}

fn expect_message(
    stream: &mut TcpStream,
    kind: u8,
    name: &'static str,
) -> Result<Vec<u8>, FeederError> {
    match read_message(stream)? {
        None => Err(FeederError::Closed),
        Some((NOTIFICATION, body)) => {
            Err(FeederError::Notification(wire::notification_codes(&body)))
        }
        Some((k, body)) if k == kind => Ok(body),
        Some((got, _)) => Err(FeederError::Unexpected {
            expected: name,
            got,
        }),
    }
}

pub fn run(cfg: &FeederConfig) -> Result<Report, FeederError> {
    let mut stream = TcpStream::connect_timeout(&cfg.connect, Duration::from_secs(10))
        .map_err(|e| FeederError::Connect(cfg.connect, e))?;
    stream.set_nodelay(true)?;

    // RFC 4271 §8: OpenSent → OpenConfirm → Established.
    stream.write_all(&wire::open(cfg.local_as, cfg.hold_time, cfg.router_id))?;
    let peer_open = expect_message(&mut stream, OPEN, "OPEN")?;
    let four_octet_as = wire::open_has_four_octet_as(&peer_open)?;
    let peer_hold = peer_open
        .get(3..5)
        .map(|h| u16::from_be_bytes([h[0], h[1]]))
        .unwrap_or(0);
    let hold = cfg.hold_time.min(peer_hold);
    stream.write_all(&wire::keepalive())?;
    expect_message(&mut stream, KEEPALIVE, "KEEPALIVE")?;

    // Encoded before the clock starts: the peer's speed is measured, not ours.
    let table = table::encode(&TableSpec {
        count: cfg.prefixes,
        first: cfg.first_prefix,
        local_as: cfg.local_as,
        next_hop: cfg.next_hop,
        four_octet_as,
        attrs: cfg.attrs,
    })?;

    let failed: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let done = Arc::new(AtomicBool::new(false));
    let writer = Arc::new(Mutex::new(stream.try_clone()?));
    let reader = spawn_reader(stream.try_clone()?, Arc::clone(&failed), Arc::clone(&done));
    let keepalive = spawn_keepalive(hold, Arc::clone(&writer), Arc::clone(&done));

    let start = Instant::now();
    for batch in &table.batches {
        let mut w = writer.lock().map_err(|_| FeederError::Closed)?;
        w.write_all(batch)?;
    }
    let send = start.elapsed();

    let result = match &cfg.count_cmd {
        None => Ok((None, 0)),
        Some(cmd) => wait_for_count(cmd, cfg, start, &failed).map(|(d, n)| (Some(d), n)),
    };

    done.store(true, Ordering::Relaxed);
    if let Ok(mut w) = writer.lock() {
        let _ = w.write_all(&wire::cease_shutdown());
    }
    let _ = stream.shutdown(Shutdown::Both);
    let _ = reader.join();
    let _ = keepalive.join();

    let (ingest, probes) = result?;
    Ok(Report {
        prefixes: table.prefixes,
        updates: table.updates,
        bytes: table.bytes,
        send,
        ingest,
        probes,
    })
}

/// Polls `cmd` until it prints at least the table size.
fn wait_for_count(
    cmd: &str,
    cfg: &FeederConfig,
    start: Instant,
    failed: &Mutex<Option<String>>,
) -> Result<(Duration, u32), FeederError> {
    let mut probes = 0u32;
    loop {
        if let Some(reason) = failed.lock().ok().and_then(|f| f.clone()) {
            return Err(FeederError::Notification(reason));
        }
        let count = probe(cmd)?;
        probes = probes.saturating_add(1);
        if count >= u64::from(cfg.prefixes) {
            return Ok((start.elapsed(), probes));
        }
        if start.elapsed() > cfg.timeout {
            return Err(FeederError::Timeout {
                want: cfg.prefixes,
                last: count,
                waited: start.elapsed(),
            });
        }
        thread::sleep(cfg.poll);
    }
}

/// Runs `sh -c cmd` and reads the last line of its output as a count; an
/// empty or non-numeric answer counts as 0 (the daemon may still be busy).
fn probe(cmd: &str) -> Result<u64, FeederError> {
    let out = Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map_err(|e| FeederError::Probe {
            cmd: cmd.to_string(),
            reason: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0))
}

fn spawn_reader(
    mut stream: TcpStream,
    failed: Arc<Mutex<Option<String>>>,
    done: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || loop {
        let outcome = match read_message(&mut stream) {
            Ok(Some((NOTIFICATION, body))) => {
                Some(format!("NOTIFICATION {}", wire::notification_codes(&body)))
            }
            Ok(Some(_)) => None,
            Ok(None) => Some("peer closed the session".to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(reason) = outcome {
            if !done.load(Ordering::Relaxed) {
                if let Ok(mut f) = failed.lock() {
                    *f = Some(reason);
                }
            }
            return;
        }
    })
}

/// KEEPALIVE every third of the hold time (RFC 4271 §10), between batches.
fn spawn_keepalive(
    hold: u16,
    writer: Arc<Mutex<TcpStream>>,
    done: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        if hold == 0 {
            return;
        }
        let every = Duration::from_secs(u64::from(hold / 3).max(1));
        let mut last = Instant::now();
        while !done.load(Ordering::Relaxed) {
            thread::sleep(Duration::from_millis(100));
            if last.elapsed() >= every {
                if let Ok(mut w) = writer.lock() {
                    if w.write_all(&wire::keepalive()).is_err() {
                        return;
                    }
                }
                last = Instant::now();
            }
        }
    })
}
