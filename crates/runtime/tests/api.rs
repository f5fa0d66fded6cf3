//! The control API over real HTTP on loopback: shapes and error statuses
//! (docs/control-api.md).

mod common;

use common::*;
use hybridlab_runtime::{Lab, LabOptions};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bare HTTP/1.1 exchange: (status, body).
async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut raw = String::new();
    s.read_to_string(&mut raw)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = raw.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = raw
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, json)
}

const TOPOLOGY: &str = r#"
[lab]
api = "127.0.0.1:0"
[[router]]
name = "a"
asn = 65001
router_id = "10.0.0.1"
  [[router.neighbor]]
  router = "b"
[[router]]
name = "b"
asn = 65002
router_id = "10.0.0.2"
  [[router.neighbor]]
  router = "a"
"#;

async fn lab() -> (Lab, SocketAddr) {
    let mut lab = Lab::new(topology(TOPOLOGY), LabOptions::default());
    if let Err(e) = lab.start().await {
        panic!("{e}");
    }
    let addr = lab.api_addr().unwrap_or_else(|| panic!("no API"));
    (lab, addr)
}

#[tokio::test]
async fn sessions_have_the_documented_shape() {
    let (lab, addr) = lab().await;
    let (status, json) = http(addr, "GET", "/api/v1/sessions", "").await;
    assert_eq!(status, 200);
    let sessions = json["sessions"].as_array().cloned().unwrap_or_default();
    assert_eq!(sessions.len(), 2);
    let s = &sessions[0];
    assert_eq!(s["router"], "a");
    assert_eq!(s["neighbor"], "b");
    assert_eq!(s["kind"], "emulated");
    assert_eq!(s["local_asn"], 65001);
    assert_eq!(s["remote_asn"], 65002);
    assert_eq!(s["peer_address"], "100.127.0.2");
    for field in [
        "state",
        "idle_reason",
        "uptime_secs",
        "hold_time",
        "keepalive",
        "remote_id",
        "prefixes",
        "messages",
        "last_error",
        "last_notification_sent",
        "last_notification_received",
    ] {
        assert!(s.get(field).is_some(), "field {field} missing in {s}");
    }
    for field in ["sent", "received", "updates_sent", "updates_received"] {
        assert!(
            s["messages"].get(field).is_some(),
            "messages.{field} missing"
        );
    }
    lab.shutdown().await;
}

#[tokio::test]
async fn errors_are_json_with_the_documented_statuses() {
    let (lab, addr) = lab().await;
    let (status, json) = http(addr, "GET", "/api/v1/routers/r9/routes", "").await;
    assert_eq!(
        (status, json["error"].as_str()),
        (404, Some("no router `r9`"))
    );
    let (status, json) = http(
        addr,
        "POST",
        "/api/v1/routers/a/announce",
        "{\"prefix\": 7}",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        json["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("bad body"),
        "{json}"
    );
    let (status, json) = http(
        addr,
        "POST",
        "/api/v1/routers/a/announce",
        "{\"prefix\": \"10.0.0.1/8\"}",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        json["error"]
            .as_str()
            .unwrap_or_default()
            .contains("host bits"),
        "{json}"
    );
    let (status, json) = http(addr, "POST", "/api/v1/routers/a/neighbors/zz/clear", "").await;
    assert_eq!(
        (status, json["error"].as_str()),
        (404, Some("router `a` has no neighbor `zz`"))
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn commands_are_accepted() {
    let (lab, addr) = lab().await;
    let (status, json) = http(addr, "POST", "/api/v1/routers/a/announce", "{\"prefix\": \"10.9.0.0/24\", \"med\": 5, \"communities\": [\"65001:1\"], \"as_path_prepend\": 2}").await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["done"], "announced 10.9.0.0/24");
    let (status, _) = http(
        addr,
        "POST",
        "/api/v1/routers/a/withdraw",
        "{\"prefix\": \"10.9.0.0/24\"}",
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = http(addr, "POST", "/api/v1/routers/a/neighbors/b/clear", "").await;
    assert_eq!(status, 200);
    let (status, json) = http(
        addr,
        "POST",
        "/api/v1/routers/b/neighbors/a/blackhole",
        "{\"on\": true}",
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["done"], "link a/b cut");
    assert!(lab
        .wire()
        .is_blackholed(&hybridlab_runtime::LinkId::new("a", "b")));
    let (status, _) = http(
        addr,
        "POST",
        "/api/v1/routers/a/neighbors/b/blackhole",
        "{\"on\": false}",
    )
    .await;
    assert_eq!(status, 200);
    assert!(!lab
        .wire()
        .is_blackholed(&hybridlab_runtime::LinkId::new("a", "b")));
    let (status, json) = http(addr, "GET", "/api/v1/routers/b/routes", "").await;
    assert_eq!(status, 200);
    assert_eq!(json["router"], "b");
    assert!(json["routes"].is_array());
    lab.shutdown().await;
}
