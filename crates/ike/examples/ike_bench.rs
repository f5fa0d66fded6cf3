//! IKEv1 setup rate (a benchmark, not a test; interop/bench-ipsec runs it).
//!
//!   ike_bench initiate --local 10.9.1.1 --count 16 --remote 10.9.0.1
//!                      --psk KEY [--seconds 10] [--warmup 2]
//!                      [--retransmit-ms 500]
//!   ike_bench respond  --local 10.9.0.1 --remote 10.9.1.1 --count 16
//!                      --psk KEY [--seconds 10]
//!
//! `initiate` runs COUNT emulated customer gateways (`PeerConfig::customer`:
//! aes128-sha1-modp1024 both phases, PFS group 2, UDP encapsulation forced
//! as strongSwan's libipsec does), on COUNT consecutive addresses from
//! `--local`, all towards ONE responder (charon, or `respond`). Each loops:
//! Main Mode + Quick Mode until its child SA is up, then `Command::Stop`
//! (Delete payloads for both SAs, so the responder does not pile up SAs)
//! and a fresh `IkePeer` with new cookies at once. Completed setups are
//! counted over `--seconds` after `--warmup`; a gateway that has not
//! finished within 5 s is counted as stuck and replaced. The first
//! retransmission waits `--retransmit-ms` (the customer default is 4 s).
//!
//! `respond` runs COUNT cloud-side peers (`PeerConfig::cloud`) on ONE
//! address, one per initiator address (`--remote` is the first), the way
//! one charon answers them all. A responder peer lives through the whole
//! run: the initiator's Delete (from port 4500) and its next Main Mode
//! (from port 500) may arrive in either order, and the peer handles both.
//!
//! Both drive the sans-IO peers from one thread (one core's worth of IKE);
//! a reader thread per UDP socket (ports 500 and 4500 per address) hands
//! datagrams over. Printed at the end, `key=value` for the script: setups,
//! setups per second, median/p99 setup time (MM1 sent → child SA up),
//! retransmits, stuck exchanges, and this process's user+system CPU time
//! from /proc/self/stat (10 ms ticks).

use hybridlab_ike::{
    Command, Event, IkePeer, Input, Output, PeerConfig, Psk, SystemRandom, TimerKind,
};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "support/udp.rs"]
mod udp;
use udp::{bind_and_read, Datagram};

struct Args {
    respond: bool,
    local: Ipv4Addr,
    remote: Ipv4Addr,
    count: u32,
    psk: String,
    seconds: f64,
    warmup: f64,
    retransmit_ms: u64,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let respond = match it.next().as_deref() {
        Some("initiate") => false,
        Some("respond") => true,
        _ => return Err("usage: ike_bench initiate|respond --local A --remote B --count N --psk K [--seconds S] [--warmup W]".into()),
    };
    let mut a = Args {
        respond,
        local: Ipv4Addr::LOCALHOST,
        remote: Ipv4Addr::new(127, 0, 0, 2),
        count: 1,
        psk: String::new(),
        seconds: 10.0,
        warmup: 2.0,
        retransmit_ms: 500,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag}: {e}");
        match flag.as_str() {
            "--local" => a.local = value.parse().map_err(|e| bad(&e))?,
            "--remote" => a.remote = value.parse().map_err(|e| bad(&e))?,
            "--count" => a.count = value.parse().map_err(|e| bad(&e))?,
            "--psk" => a.psk = value,
            "--seconds" => a.seconds = value.parse().map_err(|e| bad(&e))?,
            "--warmup" => a.warmup = value.parse().map_err(|e| bad(&e))?,
            "--retransmit-ms" => a.retransmit_ms = value.parse().map_err(|e| bad(&e))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

fn nth(base: Ipv4Addr, i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base).wrapping_add(i))
}

/// One peer slot: the current `IkePeer`, its armed timers and when its
/// current setup began.
struct Slot {
    peer: IkePeer,
    timers: BTreeMap<TimerKind, Instant>,
    began: Instant,
}

fn new_peer(a: &Args, i: u32) -> Result<IkePeer, Box<dyn std::error::Error>> {
    let config = if a.respond {
        let local = SocketAddr::new(IpAddr::V4(a.local), 500);
        let remote = SocketAddr::new(IpAddr::V4(nth(a.remote, i)), 500);
        PeerConfig::cloud(local, remote, Psk::new(a.psk.clone()))
    } else {
        let local = SocketAddr::new(IpAddr::V4(nth(a.local, i)), 500);
        let remote = SocketAddr::new(IpAddr::V4(a.remote), 500);
        let mut c = PeerConfig::customer(local, remote, Psk::new(a.psk.clone()));
        // Same work as against libipsec, which fakes a NAT: float to 4500.
        c.force_encapsulation = true;
        // In this loop charon leaves the first copy of a request (MM1 or
        // MM5, seen on the wire) unanswered in ~2 % of exchanges and answers
        // its retransmission at once; with the customer default (4 s)
        // those waits, not work, would set the rate.
        c.retransmit.base = Duration::from_millis(a.retransmit_ms);
        c
    };
    Ok(IkePeer::new(config, Box::new(SystemRandom::new()))?)
}

fn cpu_seconds() -> f64 {
    // /proc/self/stat: utime and stime are fields 14 and 15, in ticks of
    // 1/100 s (USER_HZ on Linux); the command name (field 2) may hold
    // spaces, so count from the closing parenthesis.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|s| s.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args()?;
    let (tx, rx) = mpsc::channel::<Datagram>();
    let mut sockets: HashMap<SocketAddr, UdpSocket> = HashMap::new();
    let locals: Vec<Ipv4Addr> = if a.respond {
        vec![a.local]
    } else {
        (0..a.count).map(|i| nth(a.local, i)).collect()
    };
    for ip in locals {
        for port in [500u16, 4500] {
            let addr = SocketAddr::new(IpAddr::V4(ip), port);
            sockets.insert(addr, bind_and_read(addr, &tx)?);
        }
    }

    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(a.warmup);
    let end = measure_from + Duration::from_secs_f64(a.seconds);
    let mut slots = Vec::new();
    let mut out = Vec::new();
    let mut key_of: HashMap<IpAddr, usize> = HashMap::new();
    for i in 0..a.count {
        let mut peer = new_peer(&a, i)?;
        peer.start(&mut out);
        slots.push(Slot {
            peer,
            timers: BTreeMap::new(),
            began: Instant::now(),
        });
        flush(&mut slots, i as usize, &mut out, &sockets, &mut |_, _| {})?;
        let ip = if a.respond {
            nth(a.remote, i)
        } else {
            nth(a.local, i)
        };
        key_of.insert(IpAddr::V4(ip), i as usize);
    }

    let (mut setups, mut stuck, mut retransmits, mut dropped) = (0u64, 0u64, 0u64, 0u64);
    let mut durations: Vec<f64> = Vec::new();
    let mut cpu_at_start: Option<f64> = None;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if cpu_at_start.is_none() && now >= measure_from {
            cpu_at_start = Some(cpu_seconds());
        }
        // Timers first: every expired one of every slot.
        let mut next = end;
        for i in 0..slots.len() {
            let due: Vec<TimerKind> = slots[i]
                .timers
                .iter()
                .filter(|(_, t)| **t <= now)
                .map(|(k, _)| *k)
                .collect();
            for kind in due {
                slots[i].timers.remove(&kind);
                slots[i].peer.handle(Input::TimerExpired(kind), &mut out);
                flush(&mut slots, i, &mut out, &sockets, &mut |_, _| {})?;
            }
            if let Some(t) = slots[i].timers.values().min() {
                next = next.min(*t);
            }
            // An initiator that has not finished in 5 s is replaced.
            if !a.respond && now.duration_since(slots[i].began) > Duration::from_secs(5) {
                if now >= measure_from {
                    stuck += 1;
                }
                let st = slots[i].peer.stats();
                retransmits += st.retransmitted;
                dropped += st.dropped;
                slots[i].peer = new_peer(&a, i as u32)?;
                slots[i].timers.clear();
                slots[i].began = Instant::now();
                slots[i].peer.start(&mut out);
                flush(&mut slots, i, &mut out, &sockets, &mut |_, _| {})?;
            }
        }
        let wait = next
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(50));
        let Ok(first) = rx.recv_timeout(wait) else {
            continue;
        };
        // Drain what is there before looking at timers again.
        let mut batch = vec![first];
        while let Ok(d) = rx.try_recv() {
            batch.push(d);
            if batch.len() >= 256 {
                break;
            }
        }
        for (from, to, bytes) in batch {
            let key = if a.respond { from.ip() } else { to.ip() };
            let Some(&i) = key_of.get(&key) else {
                continue;
            };
            // ESP in UDP (first four bytes a nonzero SPI) is not IKE.
            if to.port() == 4500 && bytes.len() >= 4 && bytes[..4] != [0, 0, 0, 0] {
                continue;
            }
            slots[i].peer.handle(
                Input::Datagram {
                    from,
                    to,
                    bytes: bytes.into(),
                },
                &mut out,
            );
            let mut done = false;
            flush(&mut slots, i, &mut out, &sockets, &mut |e, _| {
                done |= matches!(e, Event::ChildSaUp(_))
            })?;
            let measuring = Instant::now() >= measure_from;
            if !a.respond && done {
                if measuring {
                    setups += 1;
                    durations.push(slots[i].began.elapsed().as_secs_f64());
                }
                // Tell the responder, then start over with new cookies.
                slots[i]
                    .peer
                    .handle(Input::Command(Command::Stop), &mut out);
                flush(&mut slots, i, &mut out, &sockets, &mut |_, _| {})?;
                let st = slots[i].peer.stats();
                retransmits += st.retransmitted;
                dropped += st.dropped;
                slots[i].peer = new_peer(&a, i as u32)?;
                slots[i].timers.clear();
                slots[i].began = Instant::now();
                slots[i].peer.start(&mut out);
                flush(&mut slots, i, &mut out, &sockets, &mut |_, _| {})?;
            } else if a.respond && done && measuring {
                setups += 1;
            }
        }
    }
    let cpu = cpu_seconds() - cpu_at_start.unwrap_or(0.0);
    for s in &slots {
        let st = s.peer.stats();
        retransmits += st.retransmitted;
        dropped += st.dropped;
    }
    durations.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        durations
            .get(((durations.len() as f64 - 1.0) * p).round() as usize)
            .map(|d| d * 1000.0)
            .unwrap_or(f64::NAN)
    };
    println!(
        "role={} peers={} seconds={:.1} setups={} setups_per_s={:.1} median_ms={:.2} p99_ms={:.2} mean_ms={:.2} max_ms={:.1} over_100ms={} stuck={} retransmits={} dropped={} cpu_s={:.2} cpu_ms_per_setup={:.3}",
        if a.respond { "respond" } else { "initiate" },
        a.count,
        a.seconds,
        setups,
        setups as f64 / a.seconds,
        pct(0.5),
        pct(0.99),
        durations.iter().sum::<f64>() * 1000.0 / durations.len().max(1) as f64,
        pct(1.0),
        durations.iter().filter(|d| **d > 0.1).count(),
        stuck,
        retransmits,
        dropped,
        cpu,
        if setups > 0 { cpu * 1000.0 / setups as f64 } else { f64::NAN },
    );
    Ok(())
}

/// Sends and arms what the peer of slot `i` asked for; events go to
/// `on_event`.
fn flush(
    slots: &mut [Slot],
    i: usize,
    out: &mut Vec<Output>,
    sockets: &HashMap<SocketAddr, UdpSocket>,
    on_event: &mut dyn FnMut(&Event, usize),
) -> std::io::Result<()> {
    for o in out.drain(..) {
        match o {
            Output::Send { from, to, bytes } => {
                if let Some(s) = sockets.get(&from) {
                    // A full socket buffer under load is a lost datagram,
                    // which retransmission covers: not fatal.
                    let _ = s.send_to(&bytes, to);
                }
            }
            Output::StartTimer { kind, after } => {
                slots[i].timers.insert(kind, Instant::now() + after);
            }
            Output::StopTimer(kind) => {
                slots[i].timers.remove(&kind);
            }
            Output::Event(e) => {
                if std::env::var_os("IKE_BENCH_TRACE").is_some() {
                    eprintln!("slot {i}: {e:?}");
                }
                on_event(&e, i)
            }
        }
    }
    Ok(())
}
