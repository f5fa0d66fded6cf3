//! The cloud end of an IPsec tunnel toward a real customer gateway with no
//! NAT between them and no forced encapsulation: the CHILD SA is plain ESP,
//! IP protocol 50 (RFC 4303), on the cloud's raw socket. The "real"
//! gateway is a customer-side `IpsecTunnel` on its own loopback UDP
//! sockets and raw protocol-50 socket (loopback carries protocol 50 in any
//! kernel: no ESP support is needed, nothing but the two raw sockets reads
//! it). Needs root (UDP 500 and CAP_NET_RAW): otherwise the test says so
//! and passes vacuously.

mod common;

use common::within;
use hybridlab_ike::{PeerConfig, Psk, SeededRandom};
use hybridlab_ipsec_tunnel::{IpsecTunnel, TunnelConfig, TunnelEvent, TunnelInput, TunnelOutput};
use hybridlab_runtime::{Lab, LabError, LabOptions, WireEventKind};
use hybridlab_topology::{parse_with, ParseOptions};
use hybridlab_tunnel_ip::TunnelIpConfig;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::Instant;

const LAB: &str = r#"
[lab]
jitter = false

[[router]]
name = "onprem"
asn = 65000
router_id = "192.0.2.1"

[[region]]
name = "r1"

[[vpc]]
name = "prod"
region = "r1"
cidrs = ["10.0.0.0/16"]

[[vgw]]
name = "vgw1"
region = "r1"
vpc = "prod"

[[customer_gateway]]
name = "office"
asn = 65000
ip = "127.0.78.3"
router = "onprem"

[[vpn]]
name = "v"
vgw = "vgw1"
customer_gateway = "office"
ipsec = true
  [[vpn.tunnel]]
  inside_cidr = "169.254.10.0/30"
  psk = "tunnel.one_secret"
  outside_address = "127.0.78.2"
  [[vpn.tunnel]]
  inside_cidr = "169.254.10.4/30"
  psk = "tunnel.two_secret"
  outside_address = "127.0.78.4"
"#;

const CUSTOMER: Ipv4Addr = Ipv4Addr::new(127, 0, 78, 3);
const CLOUD: Ipv4Addr = Ipv4Addr::new(127, 0, 78, 2);

/// Not allowed to bind port 500 or open a raw socket, or an IKE daemon of
/// the host holds the port.
fn environmental(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::AddrInUse
    )
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The customer's raw protocol-50 socket, in tokio's datagram wrapper
/// (plain recvfrom/sendto system calls, as the runtime does).
fn raw_esp(local: Ipv4Addr) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(50)))?;
    s.set_nonblocking(true)?;
    s.bind(&SockAddr::from(SocketAddr::new(IpAddr::V4(local), 0)))?;
    UdpSocket::from_std(std::net::UdpSocket::from(s))
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP echo request (RFC 792) from `src` to `dst`, as an IPv4 packet.
fn echo_request(src: Ipv4Addr, dst: Ipv4Addr, seq: u16) -> bytes::Bytes {
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34];
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(b"plain esp");
    let c = checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let total = u16::try_from(20 + icmp.len()).unwrap_or(u16::MAX);
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 1, 0, 0, 64, 1, 0, 0]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&icmp);
    ip.into()
}

#[tokio::test]
async fn plain_esp_to_a_real_customer_gateway_without_nat() {
    let options = ParseOptions {
        external: vec!["onprem".to_string()],
    };
    let topology = parse_with("lab.toml", LAB, &options).unwrap_or_else(|e| panic!("{e}"));
    let mut lab = Lab::new(
        topology,
        LabOptions {
            api: None,
            no_api: true,
        },
    );
    let mut tap = lab.wire().tap();
    match lab.start().await {
        Ok(()) => {}
        Err(LabError::TunnelUdp { source, .. }) if environmental(&source) => {
            eprintln!("skipped: cannot bind UDP 500 here ({source})");
            return;
        }
        Err(e) => panic!("lab did not start: {e}"),
    }
    let handle = lab.handle();

    let sockets = (
        UdpSocket::bind(SocketAddr::new(IpAddr::V4(CUSTOMER), 500)).await,
        UdpSocket::bind(SocketAddr::new(IpAddr::V4(CUSTOMER), 4500)).await,
        raw_esp(CUSTOMER),
    );
    let (ike_socket, nat_t_socket, esp_socket) = match sockets {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) if environmental(&e) => {
            eprintln!("skipped: no customer UDP 500/4500 or raw socket here ({e})");
            lab.shutdown().await;
            return;
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => panic!("{e}"),
    };
    // A customer gateway with a public address and AWS's configuration:
    // NAT-T supported, not forced, so no NAT means no UDP encapsulation.
    let ike = PeerConfig::customer(
        addr("127.0.78.3:500"),
        addr("127.0.78.2:500"),
        Psk::new("tunnel.one_secret"),
    );
    let config = TunnelConfig::new(
        "customer",
        ike,
        TunnelIpConfig::new(Ipv4Addr::new(169, 254, 10, 2)),
        Ipv4Addr::new(169, 254, 10, 1),
    );
    let mut customer =
        IpsecTunnel::new(config, Box::new(SeededRandom::new(3))).unwrap_or_else(|e| panic!("{e}"));
    let epoch = Instant::now();
    let mut out = Vec::new();
    customer.start(Duration::ZERO, &mut out);
    let mut conn = 1_000_000;
    let mut next_conn = move || {
        conn += 1;
        conn
    };

    let mut esp_sent = 0u32;
    let (views, customer_view) = within("pings answered over plain ESP", async {
        let mut customer_up = false;
        let mut pinged = 0u16;
        let mut buf = vec![0u8; 4096];
        let mut buf2 = vec![0u8; 4096];
        let mut buf3 = vec![0u8; 65_535];
        loop {
            for o in out.drain(..) {
                match o {
                    TunnelOutput::Udp { from, to, bytes } => {
                        let socket = if from.port() == 4500 {
                            &nat_t_socket
                        } else {
                            &ike_socket
                        };
                        socket
                            .send_to(&bytes, to)
                            .await
                            .unwrap_or_else(|e| panic!("{e}"));
                    }
                    TunnelOutput::Esp { to, bytes, .. } => {
                        esp_socket
                            .send_to(&bytes, SocketAddr::new(to, 0))
                            .await
                            .unwrap_or_else(|e| panic!("{e}"));
                        esp_sent += 1;
                    }
                    TunnelOutput::Event(TunnelEvent::IpsecUp) => customer_up = true,
                    _ => {}
                }
            }
            let now = epoch.elapsed();
            if customer_up {
                let v = customer.view(now);
                if v.packets_in >= 3 {
                    let views = handle.tunnels().await;
                    return (views, v);
                }
                // Three pings to the cloud's inside address; it answers
                // (RFC 792) through the tunnel.
                if pinged < 3 {
                    pinged += 1;
                    let ping = echo_request(
                        Ipv4Addr::new(169, 254, 10, 2),
                        Ipv4Addr::new(169, 254, 10, 1),
                        pinged,
                    );
                    customer.handle(now, TunnelInput::Inner(ping), &mut next_conn, &mut out);
                    continue;
                }
            }
            let deadline = customer
                .next_deadline()
                .map_or(epoch + Duration::from_secs(3600), |d| epoch + d);
            let input = tokio::select! {
                r = ike_socket.recv_from(&mut buf) => {
                    let (n, from) = r.unwrap_or_else(|e| panic!("{e}"));
                    let bytes = bytes::Bytes::copy_from_slice(&buf[..n]);
                    TunnelInput::Udp { from, to: addr("127.0.78.3:500"), bytes }
                }
                r = nat_t_socket.recv_from(&mut buf2) => {
                    let (n, from) = r.unwrap_or_else(|e| panic!("{e}"));
                    let bytes = bytes::Bytes::copy_from_slice(&buf2[..n]);
                    TunnelInput::Udp { from, to: addr("127.0.78.3:4500"), bytes }
                }
                r = esp_socket.recv_from(&mut buf3) => {
                    let (n, from) = r.unwrap_or_else(|e| panic!("{e}"));
                    // The raw socket hands over the IPv4 header too.
                    let ihl = usize::from(buf3[0] & 0x0f) * 4;
                    let bytes = bytes::Bytes::copy_from_slice(&buf3[ihl..n]);
                    TunnelInput::Esp { from: from.ip(), to: IpAddr::V4(CUSTOMER), bytes }
                }
                () = tokio::time::sleep_until(deadline) => TunnelInput::Tick,
                () = tokio::time::sleep(Duration::from_millis(50)) => TunnelInput::Tick,
            };
            customer.handle(epoch.elapsed(), input, &mut next_conn, &mut out);
        }
    })
    .await;

    assert!(!customer_view.udp_encapsulation, "{customer_view:?}");
    let cloud = views
        .iter()
        .find(|v| v.neighbor == "v/tunnel1")
        .unwrap_or_else(|| panic!("{views:?}"));
    assert!(cloud.ipsec_up, "{cloud:?}");
    assert_eq!(cloud.last_error, None);
    let detail = |k: &str| cloud.detail.get(k).cloned().unwrap_or_default();
    assert_eq!(detail("udp_encapsulation"), serde_json::json!(false));
    assert!(detail("packets_in").as_u64() >= Some(3), "{cloud:?}");
    assert!(detail("packets_out").as_u64() >= Some(3), "{cloud:?}");
    assert!(esp_sent >= 3);
    // The SPIs agree end to end.
    assert_eq!(
        detail("spi_in").as_str(),
        customer_view.spi_out.as_deref(),
        "{cloud:?}"
    );

    // Every ESP packet passed the wire: port 0 marks protocol 50.
    let mut esp_in = 0;
    let mut esp_out = 0;
    while let Ok(e) = tap.try_recv() {
        if let WireEventKind::Datagram { from, to, .. } = e.kind {
            if from.port() == 0 && to.port() == 0 {
                if from.ip() == IpAddr::V4(CLOUD) {
                    esp_out += 1;
                } else {
                    esp_in += 1;
                }
            }
        }
    }
    assert!(
        esp_in >= 3 && esp_out >= 3,
        "tap: {esp_in} in, {esp_out} out"
    );
    lab.shutdown().await;
}
