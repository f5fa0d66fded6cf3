//! One tunnel end on real UDP sockets with a BGP speaker inside, for
//! interop runs against strongSwan + BIRD (`tests/interop/strongswan_bgp.sh`).
//! The thin driver the runtime will be: sockets on 500 and 4500, one
//! clock, `Tick` at `next_deadline`, the BGP core's I/O through the tunnel.
//!
//!   tunnel_peer --local 192.0.2.2 --remote 192.0.2.1 --psk KEY
//!               [--initiator] [--seconds 60]
//!               [--inside 169.254.10.1] [--peer-inside 169.254.10.2]
//!               [--asn 64512] [--peer-asn 65000] [--announce 10.0.0.0/16]
//!               [--vpc 10.0.5.0/24] [--expect 192.168.0.0/16]
//!
//! Prints tunnel events and BGP state changes one per line, then the
//! tunnel's view as JSON and the routes learned.

use hybridlab_bgp::packet::{AsPath, Origin, PathAttributes, Prefix};
use hybridlab_bgp::router::{PeerConfig as BgpPeer, Router, RouterConfig, RouterOutput};
use hybridlab_bgp::session::{SessionConfig, SessionInput, SessionOutput, TimerKind};
use hybridlab_ike::{Psk, SystemRandom};
use hybridlab_ipsec_tunnel::{IpsecTunnel, TunnelConfig, TunnelInput, TunnelOutput};
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Args {
    local: Ipv4Addr,
    remote: Ipv4Addr,
    psk: String,
    initiator: bool,
    seconds: u64,
    inside: Ipv4Addr,
    peer_inside: Ipv4Addr,
    asn: u32,
    peer_asn: u32,
    announce: Vec<String>,
    vpc: Vec<String>,
    expect: Vec<String>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        local: Ipv4Addr::new(192, 0, 2, 2),
        remote: Ipv4Addr::new(192, 0, 2, 1),
        psk: String::new(),
        initiator: false,
        seconds: 60,
        inside: Ipv4Addr::new(169, 254, 10, 1),
        peer_inside: Ipv4Addr::new(169, 254, 10, 2),
        asn: 64512,
        peer_asn: 65000,
        announce: Vec::new(),
        vpc: Vec::new(),
        expect: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    let e = |e: std::net::AddrParseError| e.to_string();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--local" => a.local = value()?.parse().map_err(e)?,
            "--remote" => a.remote = value()?.parse().map_err(e)?,
            "--psk" => a.psk = value()?,
            "--initiator" => a.initiator = true,
            "--seconds" => a.seconds = value()?.parse().map_err(|e| format!("{e}"))?,
            "--inside" => a.inside = value()?.parse().map_err(e)?,
            "--peer-inside" => a.peer_inside = value()?.parse().map_err(e)?,
            "--asn" => a.asn = value()?.parse().map_err(|e| format!("{e}"))?,
            "--peer-asn" => a.peer_asn = value()?.parse().map_err(|e| format!("{e}"))?,
            "--announce" => a.announce.push(value()?),
            "--vpc" => a.vpc.push(value()?),
            "--expect" => a.expect.push(value()?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

struct Bgp {
    router: Router,
    peer: hybridlab_bgp::router::PeerId,
    timers: BTreeMap<TimerKind, Instant>,
}

impl Bgp {
    /// Router outputs: timers kept here, transport work queued for the tunnel.
    fn outputs(&mut self, out: Vec<RouterOutput>, to_tunnel: &mut VecDeque<TunnelInput>, t: f64) {
        for o in out {
            match o.action {
                SessionOutput::StartTimer { timer, after } => {
                    self.timers.insert(timer, Instant::now() + after);
                }
                SessionOutput::StopTimer(timer) => {
                    self.timers.remove(&timer);
                }
                SessionOutput::StateChanged { from, to } => {
                    println!("{t:8.3} bgp {from:?} -> {to:?}");
                }
                SessionOutput::Down(reason) => println!("{t:8.3} bgp down {reason:?}"),
                action @ (SessionOutput::Connect
                | SessionOutput::Send { .. }
                | SessionOutput::Close { .. }) => to_tunnel.push_back(TunnelInput::Bgp(action)),
                _ => {}
            }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args()?;
    let psk = Psk::new(a.psk.clone());
    let mut config = if a.initiator {
        TunnelConfig::customer(
            "interop/tunnel1",
            a.local,
            a.remote,
            psk,
            a.inside,
            a.peer_inside,
        )
    } else {
        TunnelConfig::cloud(
            "interop/tunnel1",
            a.local,
            a.remote,
            psk,
            a.inside,
            a.peer_inside,
        )
    };
    for v in &a.vpc {
        config.inside.answer_ping_for.push(v.parse()?);
    }
    config.seed = 7;
    let mut tunnel = IpsecTunnel::new(config, Box::new(SystemRandom::new()))?;

    let mut router = Router::new(
        RouterConfig {
            name: "hybridlab".into(),
            asn: a.asn,
            router_id: a.inside,
            always_compare_med: false,
            export_mode: Default::default(),
        },
        7,
    );
    let mut session = SessionConfig::new(a.asn, a.peer_asn, a.inside);
    session.hold_time = 30;
    let peer = router.add_peer(BgpPeer {
        name: "cgw".into(),
        session,
        next_hop6: None,
        import: Default::default(),
        export: Default::default(),
        max_prefix: BTreeMap::new(),
    });
    let mut bgp = Bgp {
        router,
        peer,
        timers: BTreeMap::new(),
    };

    let (tx, rx) = mpsc::channel::<(SocketAddr, SocketAddr, Vec<u8>)>();
    let mut sockets = BTreeMap::new();
    for port in [500u16, 4500] {
        let addr = SocketAddr::new(IpAddr::V4(a.local), port);
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
    let now = || start.elapsed();
    let mut conn_ids = 0u64;
    let mut next_conn = || {
        conn_ids += 1;
        conn_ids
    };
    let mut pending: VecDeque<TunnelInput> = VecDeque::new();
    let mut out = Vec::new();
    tunnel.start(now(), &mut out);
    let mut rout = Vec::new();
    for p in &a.announce {
        let attrs = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([])),
            ..PathAttributes::default()
        };
        bgp.router.announce(p.parse::<Prefix>()?, attrs, &mut rout);
    }
    bgp.router.start(&mut rout);
    bgp.outputs(rout, &mut pending, 0.0);
    loop {
        // Everything the tunnel said, then everything queued for it.
        loop {
            let t = now().as_secs_f64();
            for o in out.drain(..) {
                match o {
                    TunnelOutput::Udp { from, to, bytes } => {
                        if let Some(s) = sockets.get(&from.port()) {
                            s.send_to(&bytes, to)?;
                        }
                    }
                    TunnelOutput::Esp { .. } => {
                        println!("{t:8.3} raw ESP output dropped (no raw socket)")
                    }
                    TunnelOutput::Bgp(input) => {
                        let mut rout = Vec::new();
                        bgp.router.handle(bgp.peer, input, &mut rout);
                        bgp.outputs(rout, &mut pending, t);
                    }
                    TunnelOutput::Inner(p) => {
                        println!("{t:8.3} inner packet out, {} bytes", p.len())
                    }
                    TunnelOutput::Event(e) => println!("{t:8.3} {e:?}"),
                }
            }
            match pending.pop_front() {
                Some(input) => tunnel.handle(now(), input, &mut next_conn, &mut out),
                None => break,
            }
        }
        let at = Instant::now();
        if at >= end {
            break;
        }
        let due: Vec<TimerKind> = bgp
            .timers
            .iter()
            .filter(|(_, t)| **t <= at)
            .map(|(k, _)| *k)
            .collect();
        if !due.is_empty() {
            let t = now().as_secs_f64();
            for timer in due {
                bgp.timers.remove(&timer);
                let mut rout = Vec::new();
                bgp.router
                    .handle(bgp.peer, SessionInput::TimerExpired(timer), &mut rout);
                bgp.outputs(rout, &mut pending, t);
            }
            continue;
        }
        if tunnel.next_deadline().is_some_and(|d| d <= now()) {
            pending.push_back(TunnelInput::Tick);
            continue;
        }
        let next = [
            tunnel.next_deadline().map(|d| start + d),
            bgp.timers.values().min().copied(),
            Some(end),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(end);
        let wait = next
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        if let Ok((from, to, bytes)) = rx.recv_timeout(wait) {
            pending.push_back(TunnelInput::Udp {
                from,
                to,
                bytes: bytes.into(),
            });
        }
    }
    let view = tunnel.view(now());
    println!("== view ==\n{}", serde_json::to_string_pretty(&view)?);
    let state = bgp.router.session(bgp.peer).map(|s| s.state());
    println!("== bgp ==\nstate {state:?}");
    println!("routes {}", bgp.router.route_count());
    for p in &a.expect {
        match bgp.router.best_route(&p.parse::<Prefix>()?) {
            Some(r) => println!(
                "learned {} from {:?} as_path {:?}",
                r.prefix, r.peer_address, r.as_path
            ),
            None => println!("missing {p}"),
        }
    }
    Ok(())
}
