//! The client side of the control API (docs/control-api.md): `show`,
//! `trace`, `announce`, `withdraw`, `clear`. Tables for humans, the API's
//! own JSON with `--json`.

use crate::table::Table;
use crate::Show;
use hybridlab_cloud::fabric::{NodeKind, Trace, VgwView};
use hybridlab_runtime::view::{
    AnnounceRequest, BfdReply, BlackholeRequest, CommandReply, ErrorReply, NodeRoutes, RoutesReply,
    SessionView, SessionsReply, TunnelsReply, WithdrawRequest,
};
use serde::de::DeserializeOwned;
use std::process::ExitCode;

/// A failed call, in words for the terminal.
struct Failure(String);

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        // Error statuses carry a JSON reason; read it instead of failing.
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into()
}

fn call<T: DeserializeOwned>(
    api: &str,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<T, Failure> {
    let url = format!("http://{api}{path}");
    let agent = agent();
    let result = match (method, body) {
        ("GET", _) => agent.get(&url).call(),
        (_, Some(body)) => agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body),
        (_, None) => agent.post(&url).send_empty(),
    };
    let mut response = result.map_err(|e| {
        Failure(format!(
            "cannot reach the control API at {api} ({e}); is `hybridlab run` running? (--api ADDR or HYBRIDLAB_API selects another)"
        ))
    })?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| Failure(format!("{api}: cannot read the answer: {e}")))?;
    if !status.is_success() {
        let reason = serde_json::from_str::<ErrorReply>(&text).map_or(text, |e| e.error);
        return Err(Failure(reason));
    }
    serde_json::from_str(&text).map_err(|e| {
        Failure(format!(
            "{api}: unexpected answer ({e}); is it a hybridlab API?"
        ))
    })
}

fn finish<T>(result: Result<T, Failure>, print: impl FnOnce(T)) -> ExitCode {
    match result {
        Ok(v) => {
            print(v);
            ExitCode::SUCCESS
        }
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: {e}"),
    }
}

pub fn show(what: Show) -> ExitCode {
    match what {
        Show::Sessions { json: as_json, api } => finish(
            call::<SessionsReply>(&api.addr, "GET", "/api/v1/sessions", None),
            |r| {
                if as_json {
                    json(&r);
                } else {
                    print!("{}", sessions_table(&r.sessions));
                }
            },
        ),
        Show::Bfd { json: as_json, api } => finish(
            call::<BfdReply>(&api.addr, "GET", "/api/v1/bfd", None),
            |r| {
                if as_json {
                    json(&r);
                } else {
                    print!("{}", bfd_table(&r, std::time::SystemTime::now()));
                }
            },
        ),
        Show::Tunnels { json: as_json, api } => finish(
            call::<TunnelsReply>(&api.addr, "GET", "/api/v1/tunnels", None),
            |r| {
                if as_json {
                    json(&r);
                } else {
                    print!("{}", tunnels_table(&r));
                }
            },
        ),
        Show::Routes {
            node,
            json: as_json,
            api,
        } => finish(node_routes(&api.addr, &node), |shown| match shown {
            Shown::Router(r) if as_json => json(&r),
            Shown::Router(r) => print!("{}", routes_table(&r)),
            Shown::Cloud(r) if as_json => json(&r),
            Shown::Cloud(r) => print!("{}", crate::cloud::node_routes(&r)),
        }),
        Show::Vgw {
            name,
            json: as_json,
            api,
        } => {
            let path = format!("/api/v1/vgws/{}", segment(&name));
            finish(call::<VgwView>(&api.addr, "GET", &path, None), |v| {
                if as_json {
                    json(&v);
                } else {
                    print!("{}", crate::cloud::vgw(&v));
                }
            })
        }
    }
}

/// A router's routes keep their BGP detail (next hop, local preference,
/// why best); every other node has the cloud's row shape.
enum Shown {
    Router(RoutesReply),
    Cloud(NodeRoutes),
}

fn node_routes(api: &str, node: &str) -> Result<Shown, Failure> {
    let path = format!("/api/v1/nodes/{}/routes", segment(node));
    let routes: NodeRoutes = call(api, "GET", &path, None)?;
    if routes.kind != NodeKind::Router {
        return Ok(Shown::Cloud(routes));
    }
    let path = format!("/api/v1/routers/{}/routes", segment(node));
    Ok(Shown::Router(call(api, "GET", &path, None)?))
}

/// `hybridlab trace`: exit 1 when the packet is not delivered.
pub fn trace(api: &str, from: &str, to: &str, as_json: bool) -> ExitCode {
    let path = format!("/api/v1/trace?from={}&to={}", segment(from), segment(to));
    match call::<Trace>(api, "GET", &path, None) {
        Ok(t) => {
            if as_json {
                json(&t);
            } else {
                print!("{}", crate::cloud::trace(&t));
            }
            if t.delivered {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

pub fn announce(
    api: &str,
    router: &str,
    prefix: &str,
    med: Option<u32>,
    communities: Vec<String>,
    prepend: u8,
) -> ExitCode {
    let body = AnnounceRequest {
        prefix: prefix.to_string(),
        med,
        communities,
        as_path_prepend: prepend,
    };
    command(
        api,
        &format!("/api/v1/routers/{}/announce", segment(router)),
        Some(&body),
    )
}

pub fn withdraw(api: &str, router: &str, prefix: &str) -> ExitCode {
    let body = WithdrawRequest {
        prefix: prefix.to_string(),
    };
    command(
        api,
        &format!("/api/v1/routers/{}/withdraw", segment(router)),
        Some(&body),
    )
}

pub fn clear(api: &str, router: &str, neighbor: &str) -> ExitCode {
    let path = format!(
        "/api/v1/routers/{}/neighbors/{}/clear",
        segment(router),
        segment(neighbor)
    );
    command::<()>(api, &path, None)
}

pub fn blackhole(api: &str, router: &str, neighbor: &str, on: bool) -> ExitCode {
    let path = format!(
        "/api/v1/routers/{}/neighbors/{}/blackhole",
        segment(router),
        segment(neighbor)
    );
    command(api, &path, Some(&BlackholeRequest { on }))
}

fn command<B: serde::Serialize>(api: &str, path: &str, body: Option<&B>) -> ExitCode {
    let body = match body.map(serde_json::to_string).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    finish(call::<CommandReply>(api, "POST", path, body), |r| {
        println!("{}: {}", r.router, r.done)
    })
}

/// Percent-encodes a path segment (names may hold anything TOML allows).
fn segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn duration(secs: f64) -> String {
    // Whole seconds are plenty for a table; the JSON keeps fractions.
    let s = secs.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn sessions_table(sessions: &[SessionView]) -> String {
    let mut t = Table::new(&[
        "ROUTER",
        "NEIGHBOR",
        "KIND",
        "PEER",
        "AS",
        "STATE",
        "UP",
        "PFX RCV/ACC/ADV",
        "MSG IN/OUT",
        "LAST ERROR",
    ]);
    for s in sessions {
        let state = match &s.idle_reason {
            Some(r) => format!("{} ({r})", s.state),
            None => s.state.clone(),
        };
        let (rcv, acc, adv) = s.prefixes.values().fold((0, 0, 0), |(a, b, c), p| {
            (a + p.received, b + p.accepted, c + p.advertised)
        });
        t.row(vec![
            s.router.clone(),
            s.neighbor.clone(),
            s.kind.clone(),
            or_dash(s.peer_address),
            s.remote_asn.to_string(),
            state,
            s.uptime_secs.map_or_else(|| "-".to_string(), duration),
            format!("{rcv}/{acc}/{adv}"),
            format!("{}/{}", s.messages.received, s.messages.sent),
            s.last_error.clone().unwrap_or_else(|| "-".to_string()),
        ]);
    }
    t.render()
}

/// Microseconds as a short duration: `300ms`, `1.5s`.
fn micros(us: u64) -> String {
    if us % 1_000_000 == 0 {
        format!("{}s", us / 1_000_000)
    } else if us >= 1_000_000 {
        format!("{:.1}s", us as f64 / 1e6)
    } else if us % 1000 == 0 {
        format!("{}ms", us / 1000)
    } else {
        format!("{us}us")
    }
}

fn bfd_table(r: &BfdReply, now: std::time::SystemTime) -> String {
    let now_ms = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut t = Table::new(&[
        "ROUTER",
        "NEIGHBOR",
        "PEER",
        "STATE",
        "REMOTE",
        "TX",
        "DETECT",
        "LAST DIAGNOSTIC",
        "LAST CHANGE",
    ]);
    for b in &r.bfd {
        let state = if b.holding_bgp {
            format!("{} (holding BGP)", b.state)
        } else {
            b.state.clone()
        };
        t.row(vec![
            b.router.clone(),
            b.neighbor.clone(),
            or_dash(b.peer_address),
            state,
            b.remote_state.clone(),
            micros(u64::from(b.tx_interval_us)),
            b.detection_time_us.map_or_else(|| "-".to_string(), micros),
            b.last_diagnostic.clone().unwrap_or_else(|| "-".to_string()),
            format!(
                "{} ago",
                duration(now_ms.saturating_sub(b.last_change_unix_ms) as f64 / 1000.0)
            ),
        ]);
    }
    let mut out = t.render();
    for router in &r.routers {
        let dropped: Vec<String> = router
            .unattributed_drops
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        if !dropped.is_empty() {
            out.push_str(&format!(
                "{}: packets for no session: {}\n",
                router.router,
                dropped.join(", ")
            ));
        }
    }
    out
}

/// One row per tunnel end. The core's part of each view is read by field
/// name, so a field it does not have shows as `-`.
fn tunnels_table(r: &TunnelsReply) -> String {
    let mut t = Table::new(&[
        "ROUTER",
        "NEIGHBOR",
        "ROLE",
        "OUTSIDE",
        "PHASE1",
        "PHASE2",
        "SPI IN/OUT",
        "ALGORITHMS",
        "LIFETIME LEFT",
        "PACKETS IN/OUT",
        "BYTES IN/OUT",
        "REPLAY DROPS",
        "LAST ERROR",
    ]);
    for v in &r.tunnels {
        let d = &v.detail;
        let field = |name: &str| match d.get(name) {
            None | Some(serde_json::Value::Null) => "-".to_string(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let secs = |name: &str| {
            d.get(name)
                .and_then(serde_json::Value::as_f64)
                .map_or_else(|| "-".to_string(), duration)
        };
        t.row(vec![
            v.router.clone(),
            v.neighbor.clone(),
            v.role.clone(),
            format!("{} -> {}", v.local_outside, v.remote_outside),
            field("phase1"),
            field("phase2"),
            format!("{}/{}", field("spi_in"), field("spi_out")),
            format!(
                "{} / {}",
                field("phase1_algorithms"),
                field("phase2_algorithms")
            ),
            format!(
                "{} / {}",
                secs("phase1_lifetime_left_secs"),
                secs("phase2_lifetime_left_secs")
            ),
            format!("{}/{}", field("packets_in"), field("packets_out")),
            format!("{}/{}", field("bytes_in"), field("bytes_out")),
            field("replay_drops"),
            v.last_error
                .clone()
                .or_else(|| {
                    d.get("last_error")
                        .and_then(|e| e.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "-".to_string()),
        ]);
    }
    t.render()
}

fn routes_table(r: &RoutesReply) -> String {
    let mut t = Table::new(&[
        "",
        "PREFIX",
        "NEXT HOP",
        "FROM",
        "AS PATH",
        "ORIGIN",
        "MED",
        "LPREF",
        "COMMUNITIES",
        "WHY BEST",
    ]);
    for route in &r.routes {
        t.row(vec![
            if route.best { "*>" } else { "*" }.to_string(),
            route.prefix.clone(),
            or_dash(route.next_hop),
            route.from.clone(),
            if route.as_path_text.is_empty() {
                "(empty)".to_string()
            } else {
                route.as_path_text.clone()
            },
            route.origin.clone(),
            or_dash(route.med),
            or_dash(route.local_pref),
            if route.communities.is_empty() {
                "-".to_string()
            } else {
                route.communities.join(" ")
            },
            if route.best {
                route.reason.clone().unwrap_or_default()
            } else {
                String::new()
            },
        ]);
    }
    format!(
        "routes of {} ({} paths; *> best)\n{}",
        r.router,
        r.routes.len(),
        t.render()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(segment("cloud-1"), "cloud-1");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn bfd_table_shows_state_intervals_and_age() {
        use hybridlab_runtime::view::{BfdView, RouterBfdView};
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_790_000_065_000);
        let reply = BfdReply {
            bfd: vec![BfdView {
                router: "cloud".into(),
                neighbor: "frr".into(),
                peer_address: Some([192, 0, 2, 2].into()),
                state: "Down".into(),
                remote_state: "Down".into(),
                tx_interval_us: 1_000_000,
                detection_time_us: Some(900_000),
                last_diagnostic: Some("Control Detection Time Expired".into()),
                last_change_unix_ms: 1_790_000_000_000,
                holding_bgp: true,
                ..BfdView::default()
            }],
            routers: vec![RouterBfdView {
                router: "cloud".into(),
                unattributed_drops: [("unknown_peer".to_string(), 2), ("low_ttl".to_string(), 0)]
                    .into_iter()
                    .collect(),
            }],
        };
        let text = bfd_table(&reply, now);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ROUTER"), "{text}");
        for cell in [
            "cloud",
            "192.0.2.2",
            "Down (holding BGP)",
            "1s",
            "900ms",
            "Control Detection Time Expired",
            "00:01:05 ago",
        ] {
            assert!(lines[1].contains(cell), "{cell} in {text}");
        }
        assert_eq!(lines[2], "cloud: packets for no session: unknown_peer 2");
    }

    #[test]
    fn tunnels_table_reads_the_cores_view_by_field() {
        let reply = TunnelsReply {
            tunnels: vec![hybridlab_runtime::view::TunnelEndView {
                router: "vgw1".into(),
                neighbor: "backup/tunnel1".into(),
                tunnel: Some("backup/tunnel1".into()),
                role: "responder".into(),
                path: "virtual".into(),
                local_outside: "203.0.113.1".parse().unwrap_or_else(|e| panic!("{e}")),
                remote_outside: "198.51.100.10".parse().unwrap_or_else(|e| panic!("{e}")),
                ipsec_up: true,
                last_error: None,
                detail: serde_json::json!({
                    "phase1": "Established",
                    "phase2": "Established",
                    "spi_in": "c0ffee01",
                    "spi_out": "c0ffee02",
                    "phase1_algorithms": "aes128-sha1-modp1024",
                    "phase2_algorithms": "aes128-sha1-modp1024",
                    "phase1_lifetime_left_secs": 28_000,
                    "phase2_lifetime_left_secs": 3_000,
                    "packets_in": 7,
                    "packets_out": 8,
                    "bytes_in": 700,
                    "bytes_out": 800,
                    "replay_drops": 0,
                }),
            }],
        };
        let text = tunnels_table(&reply);
        let row = text.lines().nth(1).unwrap_or_default();
        for cell in [
            "vgw1",
            "responder",
            "203.0.113.1 -> 198.51.100.10",
            "Established",
            "c0ffee01/c0ffee02",
            "aes128-sha1-modp1024 / aes128-sha1-modp1024",
            "7/8",
            "700/800",
        ] {
            assert!(row.contains(cell), "{cell} not in {row}");
        }
    }

    #[test]
    fn uptime_reads_as_a_clock() {
        assert_eq!(duration(3725.7), "01:02:05");
    }

    #[test]
    fn unreachable_api_says_so() {
        // Port 9 on loopback: nothing listens there in a test sandbox.
        let err = call::<SessionsReply>("127.0.0.1:9", "GET", "/api/v1/sessions", None).err();
        let Some(Failure(message)) = err else {
            panic!("expected a failure");
        };
        assert!(
            message.contains("cannot reach the control API at 127.0.0.1:9"),
            "{message}"
        );
    }
}
