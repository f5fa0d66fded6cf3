//! The cloud end of an IPsec tunnel toward a real customer gateway: kernel
//! UDP 500 and 4500 on the tunnel's outside address. The "real" gateway
//! here is a customer-side `IpsecTunnel` on its own loopback sockets.
//! Binding UDP 500 needs root (or a lowered
//! `net.ipv4.ip_unprivileged_port_start`), and no IKE daemon of the host
//! may hold it: otherwise the test says so and passes vacuously.

mod common;

use common::within;
use hybridlab_ike::{PeerConfig, Psk, SeededRandom};
use hybridlab_ipsec_tunnel::{IpsecTunnel, TunnelConfig, TunnelEvent, TunnelInput, TunnelOutput};
use hybridlab_runtime::{Lab, LabError, LabOptions};
use hybridlab_topology::{parse_with, ParseOptions};
use hybridlab_tunnel_ip::TunnelIpConfig;
use std::net::{Ipv4Addr, SocketAddr};
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
ip = "127.0.77.3"
router = "onprem"

[[vpn]]
name = "v"
vgw = "vgw1"
customer_gateway = "office"
ipsec = true
  [[vpn.tunnel]]
  inside_cidr = "169.254.10.0/30"
  psk = "tunnel.one_secret"
  outside_address = "127.0.77.2"
  [[vpn.tunnel]]
  inside_cidr = "169.254.10.4/30"
  psk = "tunnel.two_secret"
  outside_address = "127.0.77.4"
"#;

/// Not allowed to bind port 500, or an IKE daemon of the host holds it.
fn environmental(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::AddrInUse
    )
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[tokio::test]
async fn a_real_customer_gateway_brings_the_tunnel_up_over_kernel_udp() {
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
    match lab.start().await {
        Ok(()) => {}
        Err(LabError::TunnelUdp { source, .. }) if environmental(&source) => {
            eprintln!("skipped: cannot bind UDP 500 here ({source})");
            return;
        }
        Err(e) => panic!("lab did not start: {e}"),
    }
    let handle = lab.handle();

    // The customer gateway of tunnel 1, as strongSwan would be configured
    // from the cloud's generated file.
    let (ike_socket, nat_t_socket) = match (
        UdpSocket::bind(addr("127.0.77.3:500")).await,
        UdpSocket::bind(addr("127.0.77.3:4500")).await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) if environmental(&e) => {
            eprintln!("skipped: cannot bind the customer's UDP 500/4500 here ({e})");
            return;
        }
        (Err(e), _) | (_, Err(e)) => panic!("{e}"),
    };
    let mut ike = PeerConfig::customer(
        addr("127.0.77.3:500"),
        addr("127.0.77.2:500"),
        Psk::new("tunnel.one_secret"),
    );
    ike.force_encapsulation = true;
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

    let up = within("IPsec up on both ends", async {
        let mut customer_up = false;
        let mut buf = vec![0u8; 4096];
        let mut buf2 = vec![0u8; 4096];
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
                    TunnelOutput::Event(TunnelEvent::IpsecUp) => customer_up = true,
                    _ => {}
                }
            }
            if customer_up {
                let views = handle.tunnels().await;
                let cloud = views
                    .iter()
                    .find(|v| v.neighbor == "v/tunnel1")
                    .unwrap_or_else(|| panic!("{views:?}"));
                if cloud.ipsec_up {
                    return views;
                }
            }
            let deadline = customer
                .next_deadline()
                .map_or(epoch + Duration::from_secs(3600), |d| epoch + d);
            let input = tokio::select! {
                r = ike_socket.recv_from(&mut buf) => {
                    let (n, from) = r.unwrap_or_else(|e| panic!("{e}"));
                    let bytes = bytes::Bytes::copy_from_slice(&buf[..n]);
                    TunnelInput::Udp { from, to: addr("127.0.77.3:500"), bytes }
                }
                r = nat_t_socket.recv_from(&mut buf2) => {
                    let (n, from) = r.unwrap_or_else(|e| panic!("{e}"));
                    let bytes = bytes::Bytes::copy_from_slice(&buf2[..n]);
                    TunnelInput::Udp { from, to: addr("127.0.77.3:4500"), bytes }
                }
                () = tokio::time::sleep_until(deadline) => TunnelInput::Tick,
                // The cloud end learns of the SA a moment after us: look again.
                () = tokio::time::sleep(Duration::from_millis(50)) => TunnelInput::Tick,
            };
            customer.handle(epoch.elapsed(), input, &mut next_conn, &mut out);
        }
    })
    .await;
    let cloud = up
        .iter()
        .find(|v| v.neighbor == "v/tunnel1")
        .unwrap_or_else(|| panic!("{up:?}"));
    assert_eq!(cloud.path, "udp");
    assert_eq!(cloud.role, "responder");
    assert_eq!(cloud.local_outside.to_string(), "127.0.77.2");
    assert_eq!(
        cloud.detail.get("phase2").and_then(|v| v.as_str()),
        Some("Established")
    );
    let vgw = handle.vgw("vgw1").await.unwrap_or_else(|e| panic!("{e}"));
    let status = |n: u8| {
        vgw.tunnels
            .iter()
            .find(|t| t.tunnel.tunnel == n)
            .map(|t| t.status.status_message.clone())
    };
    // Tunnel 1: IPsec up, BGP not (nobody speaks BGP on this customer).
    assert_eq!(status(1).as_deref(), Some("0 BGP ROUTES"));
    // Tunnel 2: nobody initiated.
    assert_eq!(status(2).as_deref(), Some("IPSEC IS DOWN"));
    lab.shutdown().await;
}
