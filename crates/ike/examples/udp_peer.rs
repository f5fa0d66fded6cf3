//! One IKEv1 peer on real UDP sockets, for interop runs against strongSwan
//! (see `tests/interop/strongswan.sh`). The thin driver the runtime will
//! replace: sockets on 500 and 4500, a deadline per timer, events printed
//! one per line.
//!
//!   udp_peer --local 192.0.2.2 --remote 192.0.2.1 --psk KEY
//!            [--initiator] [--seconds 60] [--force-encap]
//!            [--stop-after-up]

use hybridlab_ike::{IkePeer, Input, Output, PeerConfig, Psk, SystemRandom, TimerKind};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Args {
    local: IpAddr,
    remote: IpAddr,
    psk: String,
    initiator: bool,
    seconds: u64,
    force_encap: bool,
    command_at: Option<(u64, String)>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        local: IpAddr::from([127, 0, 0, 1]),
        remote: IpAddr::from([127, 0, 0, 2]),
        psk: String::new(),
        initiator: false,
        seconds: 60,
        force_encap: false,
        command_at: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--local" => a.local = value()?.parse().map_err(|e| format!("{e}"))?,
            "--remote" => a.remote = value()?.parse().map_err(|e| format!("{e}"))?,
            "--psk" => a.psk = value()?,
            "--seconds" => a.seconds = value()?.parse().map_err(|e| format!("{e}"))?,
            "--initiator" => a.initiator = true,
            "--force-encap" => a.force_encap = true,
            // --command 20:rekey-child | rekey-ike | stop
            "--command" => {
                let v = value()?;
                let (t, c) = v.split_once(':').ok_or("--command SECONDS:NAME")?;
                a.command_at = Some((t.parse().map_err(|e| format!("{e}"))?, c.to_string()));
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args()?;
    let local = SocketAddr::new(a.local, 500);
    let remote = SocketAddr::new(a.remote, 500);
    let mut config = if a.initiator {
        PeerConfig::customer(local, remote, Psk::new(a.psk.clone()))
    } else {
        PeerConfig::cloud(local, remote, Psk::new(a.psk.clone()))
    };
    config.force_encapsulation = a.force_encap;
    let mut peer = IkePeer::new(config, Box::new(SystemRandom::new()))?;

    let (tx, rx) = mpsc::channel::<(SocketAddr, SocketAddr, Vec<u8>)>();
    let mut sockets = BTreeMap::new();
    for port in [500u16, 4500] {
        let addr = SocketAddr::new(a.local, port);
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
        sockets.insert(port, sock);
    }

    let start = Instant::now();
    let end = start + Duration::from_secs(a.seconds);
    let mut timers: BTreeMap<TimerKind, Instant> = BTreeMap::new();
    let mut command = a.command_at.clone();
    let mut out = Vec::new();
    peer.start(&mut out);
    loop {
        for o in out.drain(..) {
            match o {
                Output::Send { from, to, bytes } => {
                    if let Some(s) = sockets.get(&from.port()) {
                        s.send_to(&bytes, to)?;
                    }
                }
                Output::StartTimer { kind, after } => {
                    timers.insert(kind, Instant::now() + after);
                }
                Output::StopTimer(kind) => {
                    timers.remove(&kind);
                }
                Output::Event(e) => {
                    println!("{:8.3} {e:?}", start.elapsed().as_secs_f64());
                }
            }
        }
        let now = Instant::now();
        if now >= end {
            break;
        }
        if let Some((at, name)) = command.clone() {
            if now >= start + Duration::from_secs(at) {
                command = None;
                let c = match name.as_str() {
                    "rekey-child" => hybridlab_ike::Command::RekeyPhase2,
                    "rekey-ike" => hybridlab_ike::Command::RekeyPhase1,
                    _ => hybridlab_ike::Command::Stop,
                };
                println!("{:8.3} command {name}", start.elapsed().as_secs_f64());
                peer.handle(Input::Command(c), &mut out);
                continue;
            }
        }
        if let Some((&kind, _)) = timers.iter().find(|(_, t)| **t <= now) {
            timers.remove(&kind);
            peer.handle(Input::TimerExpired(kind), &mut out);
            continue;
        }
        let next = timers.values().min().copied().unwrap_or(end).min(end);
        let wait = next
            .saturating_duration_since(now)
            .min(Duration::from_millis(200));
        if let Ok((from, to, bytes)) = rx.recv_timeout(wait) {
            peer.handle(
                Input::Datagram {
                    from,
                    to,
                    bytes: bytes.into(),
                },
                &mut out,
            );
        }
    }
    println!(
        "{:8.3} done: phase1 {:?} phase2 {:?} children {:?} stats {:?}",
        start.elapsed().as_secs_f64(),
        peer.phase1_state(),
        peer.phase2_state(),
        peer.child_spis(),
        peer.stats()
    );
    Ok(())
}
