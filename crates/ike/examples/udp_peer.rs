//! One IKEv1 peer on real UDP sockets, for interop runs against strongSwan
//! (see `tests/interop/strongswan.sh`). The thin driver the runtime will
//! replace: sockets on 500 and 4500, a deadline per timer, events printed
//! one per line.
//!
//!   udp_peer --local 192.0.2.2 --remote 192.0.2.1 --psk KEY
//!            [--initiator] [--seconds 60] [--force-encap]
//!            [--command SECONDS:rekey-child|rekey-ike|stop]
//!            [--ping INNER_SRC,INNER_DST]
//!
//! `--ping` proves the negotiated keys with the other implementation: once
//! a child SA is up, an ICMP echo from INNER_SRC to INNER_DST goes out
//! every second as ESP in UDP 4500 (hybridlab-esp, outbound keys), and ESP
//! that arrives is opened with the inbound keys and reported.

use hybridlab_ike::{IkePeer, Input, Output, PeerConfig, Psk, SystemRandom, TimerKind};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "support/udp.rs"]
mod udp;
use udp::{bind_and_read, Datagram};

struct Args {
    local: IpAddr,
    remote: IpAddr,
    psk: String,
    initiator: bool,
    seconds: u64,
    force_encap: bool,
    command_at: Option<(u64, String)>,
    ping: Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
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
        ping: None,
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
            "--ping" => {
                let v = value()?;
                let (a1, a2) = v.split_once(',').ok_or("--ping SRC,DST")?;
                a.ping = Some((
                    a1.parse().map_err(|e| format!("{e}"))?,
                    a2.parse().map_err(|e| format!("{e}"))?,
                ));
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

    let (tx, rx) = mpsc::channel::<Datagram>();
    let mut sockets = BTreeMap::new();
    for port in [500u16, 4500] {
        let addr = SocketAddr::new(a.local, port);
        sockets.insert(port, bind_and_read(addr, &tx)?);
    }

    let start = Instant::now();
    let end = start + Duration::from_secs(a.seconds);
    let mut timers: BTreeMap<TimerKind, Instant> = BTreeMap::new();
    let mut command = a.command_at.clone();
    let mut out = Vec::new();
    let mut esp = Esp::default();
    let mut next_ping = Instant::now();
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
                    esp.on_event(&e);
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
        if let (Some((src, dst)), Some(sa)) = (a.ping, esp.outbound.as_mut()) {
            if now >= next_ping {
                next_ping = now + Duration::from_secs(1);
                esp.sent += 1;
                let inner = icmp_echo(src, dst, esp.sent);
                let mut packet = bytes::BytesMut::new();
                if sa
                    .seal(
                        &inner,
                        hybridlab_esp::NEXT_HEADER_IPV4,
                        &mut esp.ivs,
                        &mut packet,
                    )
                    .is_ok()
                {
                    if let (Some(s), Some(to)) = (sockets.get(&4500), esp.remote) {
                        s.send_to(&packet, to)?;
                    }
                }
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
            if to.port() == 4500 {
                if let hybridlab_esp::natt::UdpPayload::Esp { spi, packet } =
                    hybridlab_esp::natt::classify(&bytes)
                {
                    esp.open(spi, packet, start);
                    // Authenticated ESP is a sign of life for DPD.
                    peer.handle(Input::PeerActivity, &mut out);
                    continue;
                }
            }
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
        "{:8.3} esp: {} echo requests sent, {} packets opened, {} refused",
        start.elapsed().as_secs_f64(),
        esp.sent,
        esp.opened,
        esp.refused
    );
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

/// The newest child SA pair in hybridlab-esp form.
#[derive(Default)]
struct Esp {
    inbound: BTreeMap<u32, hybridlab_esp::SecurityAssociation>,
    outbound: Option<hybridlab_esp::SecurityAssociation>,
    remote: Option<SocketAddr>,
    ivs: Ivs,
    sent: u16,
    opened: u64,
    refused: u64,
}

#[derive(Default)]
struct Ivs(u64);

impl hybridlab_esp::IvSource for Ivs {
    fn fill_iv(&mut self, iv: &mut [u8; hybridlab_esp::IV_LEN]) -> Result<(), ()> {
        use ring::rand::SecureRandom;
        self.0 += 1;
        ring::rand::SystemRandom::new().fill(iv).map_err(|_| ())
    }
}

impl Esp {
    fn on_event(&mut self, e: &hybridlab_ike::Event) {
        use hybridlab_esp::{Cipher, Integrity, SaParams, SecurityAssociation};
        match e {
            hybridlab_ike::Event::ChildSaUp(c) => {
                let cipher = match c.proposal.cipher {
                    hybridlab_ike::Cipher::Aes128Cbc => Cipher::Aes128Cbc,
                    hybridlab_ike::Cipher::Aes256Cbc => Cipher::Aes256Cbc,
                };
                let integrity = match c.proposal.integrity {
                    hybridlab_ike::Integrity::Sha1 => Integrity::HmacSha1_96,
                    _ => Integrity::HmacSha256_128,
                };
                let inbound = SecurityAssociation::new(&SaParams::new(
                    c.spi_in,
                    cipher,
                    c.enc_key_in.as_bytes(),
                    integrity,
                    c.integ_key_in.as_bytes(),
                ));
                let outbound = SecurityAssociation::new(&SaParams::new(
                    c.spi_out,
                    cipher,
                    c.enc_key_out.as_bytes(),
                    integrity,
                    c.integ_key_out.as_bytes(),
                ));
                if let (Ok(i), Ok(o)) = (inbound, outbound) {
                    self.inbound.insert(c.spi_in, i);
                    self.outbound = Some(o);
                    self.remote = Some(c.remote);
                }
            }
            hybridlab_ike::Event::ChildSaDeleted {
                spi_in, spi_out, ..
            } => {
                self.inbound.remove(spi_in);
                if self.outbound.as_ref().map(|o| o.spi()) == Some(*spi_out) {
                    self.outbound = None;
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, spi: u32, packet: &[u8], start: Instant) {
        let mut inner = bytes::BytesMut::new();
        match self
            .inbound
            .get_mut(&spi)
            .map(|sa| sa.open(packet, &mut inner))
        {
            Some(Ok(o)) => {
                self.opened += 1;
                let icmp_type = inner.get(20).copied();
                println!(
                    "{:8.3} esp in: spi {spi:08x} seq {} inner {} bytes, proto {:?}, icmp type {:?}",
                    start.elapsed().as_secs_f64(),
                    o.sequence,
                    o.len,
                    inner.get(9),
                    icmp_type
                );
            }
            other => {
                self.refused += 1;
                println!(
                    "{:8.3} esp in: spi {spi:08x} refused: {other:?}",
                    start.elapsed().as_secs_f64()
                );
            }
        }
    }
}

/// An IPv4 ICMP echo request, checksums included (RFC 791, RFC 792).
fn icmp_echo(src: std::net::Ipv4Addr, dst: std::net::Ipv4Addr, seq: u16) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34];
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(b"hybridlab-ike ping");
    let c = checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let total = (20 + icmp.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 1, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&icmp);
    ip
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
