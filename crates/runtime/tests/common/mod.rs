//! Helpers shared by the runtime's integration tests.
#![allow(dead_code)]

use bytes::Bytes;
use hybridlab_cloud::fabric::Trace;
use hybridlab_runtime::{
    Lab, LabEvent, LabEventKind, LabHandle, LabOptions, WireEvent, WireEventKind,
};
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// Longest any test waits for something, in (usually virtual) time.
pub const PATIENCE: Duration = Duration::from_secs(600);

pub fn topology(text: &str) -> hybridlab_topology::Topology {
    match hybridlab_topology::parse("test.toml", text) {
        Ok(t) => t,
        Err(e) => panic!("bad test topology:\n{e}"),
    }
}

pub struct Running {
    pub lab: Lab,
    pub events: UnboundedReceiver<LabEvent>,
    pub tap: UnboundedReceiver<WireEvent>,
}

/// Starts a lab without the control API, subscribed from the first byte.
pub async fn start(text: &str) -> Running {
    let mut lab = Lab::new(
        topology(text),
        LabOptions {
            api: None,
            no_api: true,
        },
    );
    let events = lab.events();
    let tap = lab.wire().tap();
    if let Err(e) = lab.start().await {
        panic!("lab did not start: {e}");
    }
    Running { lab, events, tap }
}

pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(PATIENCE, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Polls (in virtual time, every 10 ms) until `ok` holds for the path of
/// a packet from the VPC `prod` to `to`; the trace that passed.
pub async fn trace_until(
    handle: &LabHandle,
    to: &str,
    what: &str,
    ok: impl Fn(&[String]) -> bool,
) -> Trace {
    let to: IpAddr = to.parse().unwrap_or_else(|e| panic!("{to}: {e}"));
    within(what, async {
        loop {
            if let Ok(t) = handle.trace("prod", to).await {
                if ok(&t.path()) {
                    return t;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

/// The next lab event that `pick` accepts.
pub async fn next_event<T>(
    events: &mut UnboundedReceiver<LabEvent>,
    what: &str,
    mut pick: impl FnMut(&LabEvent) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            let Some(e) = events.recv().await else {
                panic!("event stream ended while waiting for {what}");
            };
            if let Some(v) = pick(&e) {
                return v;
            }
        }
    })
    .await
}

/// Waits until the named router's session with `neighbor` is Established.
pub async fn established(
    events: &mut UnboundedReceiver<LabEvent>,
    router: &str,
    neighbor: &str,
) -> LabEvent {
    next_event(events, &format!("{router}/{neighbor} Established"), |e| {
        (e.router == router
            && e.neighbor == neighbor
            && matches!(e.kind, LabEventKind::Established { .. }))
        .then(|| e.clone())
    })
    .await
}

/// The BGP message type of a chunk that starts a message (RFC 4271 §4.1).
pub fn message_type(data: &Bytes) -> Option<u8> {
    data.get(18).copied()
}

/// Every whole message in a chunk, as (type, body after the header).
pub fn messages(data: &Bytes) -> Vec<(u8, Bytes)> {
    let mut out = Vec::new();
    let mut rest = data.clone();
    while rest.len() >= 19 {
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        if len < 19 || len > rest.len() {
            break;
        }
        out.push((rest[18], rest.slice(19..len)));
        rest = rest.slice(len..);
    }
    out
}

pub const KEEPALIVE: u8 = 4;
pub const NOTIFICATION: u8 = 3;
pub const UPDATE: u8 = 2;

/// The next wire event `pick` accepts.
pub async fn next_on_wire<T>(
    tap: &mut UnboundedReceiver<WireEvent>,
    what: &str,
    mut pick: impl FnMut(&WireEvent) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            let Some(e) = tap.recv().await else {
                panic!("tap ended while waiting for {what}");
            };
            if let Some(v) = pick(&e) {
                return v;
            }
        }
    })
    .await
}

/// Messages of one type in a wire event sent by `from`.
pub fn sent_by(e: &WireEvent, from: &str, msg_type: u8) -> Vec<Bytes> {
    match &e.kind {
        WireEventKind::Data(d) if e.from.as_deref() == Some(from) => messages(d)
            .into_iter()
            .filter(|(t, _)| *t == msg_type)
            .map(|(_, body)| body)
            .collect(),
        _ => Vec::new(),
    }
}
