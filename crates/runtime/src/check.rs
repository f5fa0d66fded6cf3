//! `hybridlab check`: the `[[expect]]`s of a topology against a running
//! lab. [`observe`] reads what the expectations need, [`verify`] compares
//! (pure, so every matching rule is tested without a lab), [`converge`]
//! polls until everything holds or time runs out.
//!
//! ```text
//!   expectations ──▶ observe(lab) ──▶ Snapshot ──▶ verify ──▶ Verdicts
//!                         ▲              │ extra (e.g. FRR's table)
//!                         └── every 200 ms until all pass or timeout
//! ```

use crate::lab::LabHandle;
use crate::view::SessionView;
use hybridlab_bgp::packet::Community;
use hybridlab_cloud::fabric::{NodeRoute, Trace, VgwView};
use hybridlab_cloud::vgw::TunnelState;
use hybridlab_topology::expect::{Check, Expectation};
use ipnet::IpNet;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

/// How often [`converge`] looks again.
pub const POLL: Duration = Duration::from_millis(200);

/// What the lab showed at one instant, as much as the expectations ask.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Routes per node, as `show routes NODE` reads them.
    pub routes: BTreeMap<String, Vec<NodeRoute>>,
    /// Nodes whose routes could not be read, and why.
    pub route_errors: BTreeMap<String, String>,
    pub sessions: Vec<SessionView>,
    pub traces: BTreeMap<(String, IpAddr), Result<Trace, String>>,
    /// VGW views (tunnel status), per VGW, for tunnel expectations.
    pub vgws: BTreeMap<String, Result<VgwView, String>>,
}

/// The outcome of one expectation: one readable line each for what was
/// expected and what the lab showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub at: String,
    pub description: Option<String>,
    pub expected: String,
    pub observed: String,
    pub passed: bool,
}

/// "ok   FILE:LINE description", or FAIL with what was expected and seen
/// on two more lines (`hybridlab check`'s output, docs/check.md). Without
/// a description the expected line names the expectation.
impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let title = self.description.as_deref().unwrap_or(&self.expected);
        if self.passed {
            write!(f, "ok   {} {title}", self.at)
        } else {
            write!(
                f,
                "FAIL {} {title}\n     expected: {}\n     observed: {}",
                self.at, self.expected, self.observed
            )
        }
    }
}

/// The node an expectation asks about, if it asks about one node's table
/// or sessions (a trace starts at a VPC and is never external).
pub fn node_of(e: &Expectation) -> Option<&str> {
    match &e.check {
        Check::Route { node, .. } | Check::Session { node, .. } => Some(node),
        Check::Tunnel { vgw, .. } => Some(vgw),
        Check::Trace { .. } => None,
    }
}

pub fn verify(expectations: &[Expectation], snapshot: &Snapshot) -> Vec<Verdict> {
    expectations
        .iter()
        .map(|e| {
            let (expected, observed, passed) = match &e.check {
                Check::Route { node, prefix, .. } => route(&e.check, node, prefix, snapshot),
                Check::Session {
                    node,
                    peer,
                    state,
                    idle_reason,
                } => session(node, peer, state, idle_reason.as_deref(), snapshot),
                Check::Trace {
                    from,
                    to,
                    path,
                    delivered,
                } => trace(from, *to, path, *delivered, snapshot),
                Check::Tunnel {
                    vgw,
                    tunnel,
                    status,
                    status_message,
                } => tunnel_status(vgw, tunnel, status, status_message.as_deref(), snapshot),
            };
            Verdict {
                at: e.at.clone(),
                description: e.description.clone(),
                expected,
                observed,
                passed,
            }
        })
        .collect()
}

/// The fields of a route expectation that were given.
struct Wanted<'a> {
    via: Option<&'a str>,
    as_path: Option<&'a [u32]>,
    med: Option<u32>,
    rule: Option<&'a str>,
    origin: Option<&'a str>,
    communities: Option<&'a [String]>,
}

fn route(check: &Check, node: &str, prefix: &IpNet, snap: &Snapshot) -> (String, String, bool) {
    let Check::Route {
        present,
        via,
        as_path,
        med,
        rule,
        origin,
        communities,
        ..
    } = check
    else {
        return (String::new(), String::new(), false);
    };
    let want = Wanted {
        via: via.as_deref(),
        as_path: as_path.as_deref(),
        med: *med,
        rule: rule.as_deref(),
        origin: origin.as_deref(),
        communities: communities.as_deref(),
    };
    let expected = if *present {
        format!("{node}: {prefix}{}", wanted_text(&want))
    } else {
        format!("{node}: no route {prefix}")
    };
    let rows = match snap.routes.get(node) {
        Some(rows) => rows,
        None => {
            let why = snap
                .route_errors
                .get(node)
                .map_or("not observed", String::as_str);
            return (
                expected,
                format!("{node}: cannot read routes: {why}"),
                false,
            );
        }
    };
    let matching: Vec<&NodeRoute> = rows.iter().filter(|r| r.prefix == *prefix).collect();
    let Some(row) = matching
        .iter()
        .find(|r| r.active)
        .or_else(|| matching.first())
        .copied()
    else {
        let observed = format!("{node}: no route {prefix}{}", others(rows));
        return (expected, observed, !*present);
    };
    let mut observed = format!("{node}: {prefix}{}", row_text(row, &want));
    if !*present {
        return (expected, observed, false);
    }
    let passed = row_matches(row, &want);
    if !passed {
        let rest: Vec<String> = matching
            .iter()
            .filter(|r| !std::ptr::eq(**r, row))
            .map(|r| format!("via {}", r.via))
            .collect();
        if !rest.is_empty() {
            observed.push_str(&format!("; other paths {}", rest.join(", ")));
        }
    }
    (expected, observed, passed)
}

fn row_matches(row: &NodeRoute, want: &Wanted<'_>) -> bool {
    want.via
        .is_none_or(|v| row.via == v || row.egress.as_deref() == Some(v))
        && want.as_path.is_none_or(|p| row.as_path == p)
        && want.med.is_none_or(|m| row.med == Some(m))
        && want
            .rule
            .is_none_or(|r| row.rule.map(rule_name).as_deref() == Some(r))
        && want.origin.is_none_or(|o| row.origin == o)
        && want
            .communities
            .is_none_or(|c| community_set(c) == community_set(&row.communities))
}

/// The serde name of a rule ("shortest_as_path"), as expectations write it.
fn rule_name(rule: hybridlab_cloud::decision::Rule) -> String {
    match serde_json::to_value(rule) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{rule:?}"),
    }
}

/// Communities compared by value: "no-export" and "65535:65281" are one.
fn community_set(list: &[String]) -> BTreeSet<String> {
    list.iter()
        .map(|c| {
            c.parse::<Community>()
                .map_or_else(|_| c.clone(), |c| c.to_string())
        })
        .collect()
}

fn as_path_text(path: &[u32]) -> String {
    if path.is_empty() {
        "(empty)".to_string()
    } else {
        path.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn communities_text(list: &[String]) -> String {
    if list.is_empty() {
        "(none)".to_string()
    } else {
        list.join(" ")
    }
}

fn wanted_text(w: &Wanted<'_>) -> String {
    let mut out = String::new();
    if let Some(v) = w.via {
        out.push_str(&format!(" via {v}"));
    }
    if let Some(o) = w.origin {
        out.push_str(&format!(" origin {o}"));
    }
    if let Some(p) = w.as_path {
        out.push_str(&format!(" as_path {}", as_path_text(p)));
    }
    if let Some(m) = w.med {
        out.push_str(&format!(" med {m}"));
    }
    if let Some(r) = w.rule {
        out.push_str(&format!(" rule {r}"));
    }
    if let Some(c) = w.communities {
        out.push_str(&format!(" communities {}", communities_text(c)));
    }
    out
}

/// A row in the words of the expectation: the fields it asked about, then
/// the egress (what `via` also matches) and whether it is inactive.
fn row_text(row: &NodeRoute, w: &Wanted<'_>) -> String {
    let mut out = format!(" via {}", row.via);
    if w.origin.is_some() {
        out.push_str(&format!(" origin {}", row.origin));
    }
    if w.as_path.is_some() {
        out.push_str(&format!(" as_path {}", as_path_text(&row.as_path)));
    }
    if w.med.is_some() {
        match row.med {
            Some(m) => out.push_str(&format!(" med {m}")),
            None => out.push_str(" no med"),
        }
    }
    if w.rule.is_some() {
        match row.rule {
            Some(r) => out.push_str(&format!(" rule {}", rule_name(r))),
            None => out.push_str(" no rule"),
        }
    }
    if w.communities.is_some() {
        out.push_str(&format!(
            " communities {}",
            communities_text(&row.communities)
        ));
    }
    if let Some(e) = &row.egress {
        out.push_str(&format!(" (egress {e})"));
    }
    if !row.active {
        out.push_str(" (not active)");
    }
    out
}

/// What the node has instead, briefly: enough to spot a typo or a
/// missing propagation.
fn others(rows: &[NodeRoute]) -> String {
    const SHOWN: usize = 5;
    let mut seen: Vec<String> = Vec::new();
    for r in rows.iter().filter(|r| r.active) {
        let text = format!("{} {}", r.prefix, r.via);
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    if seen.is_empty() {
        return "; no routes at all".to_string();
    }
    let more = seen.len().saturating_sub(SHOWN);
    seen.truncate(SHOWN);
    let mut out = format!("; has {}", seen.join(", "));
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    out
}

fn session(
    node: &str,
    peer: &str,
    state: &str,
    idle_reason: Option<&str>,
    snap: &Snapshot,
) -> (String, String, bool) {
    let expected = match idle_reason {
        Some(r) => format!("{node}: session {peer} {state} ({r})"),
        None => format!("{node}: session {peer} {state}"),
    };
    let Some(s) = snap
        .sessions
        .iter()
        .find(|s| s.router == node && s.neighbor == peer)
    else {
        return (expected, format!("{node}: no session {peer}"), false);
    };
    let observed = match &s.idle_reason {
        Some(r) => format!("{node}: session {peer} {} ({r})", s.state),
        None => format!("{node}: session {peer} {}", s.state),
    };
    let passed = s.state == state
        && idle_reason.is_none_or(|want| {
            s.idle_reason
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(want))
        });
    (expected, observed, passed)
}

/// A tunnel's status and message in its VGW's view (`hybridlab show vgw`).
fn tunnel_status(
    vgw: &str,
    tunnel: &str,
    status: &str,
    message: Option<&str>,
    snap: &Snapshot,
) -> (String, String, bool) {
    let expected = match message {
        Some(m) => format!("{vgw}: tunnel {tunnel} {status} \"{m}\""),
        None => format!("{vgw}: tunnel {tunnel} {status}"),
    };
    let view = match snap.vgws.get(vgw) {
        Some(Ok(v)) => v,
        Some(Err(e)) => return (expected, format!("{vgw}: {e}"), false),
        None => return (expected, format!("{vgw}: not observed"), false),
    };
    let Some(t) = view.tunnels.iter().find(|t| t.tunnel.to_string() == tunnel) else {
        return (expected, format!("{vgw}: no tunnel {tunnel}"), false);
    };
    let observed_status = match t.status.status {
        TunnelState::Up => "UP",
        TunnelState::Down => "DOWN",
    };
    let observed = format!(
        "{vgw}: tunnel {tunnel} {observed_status} \"{}\"",
        t.status.status_message
    );
    let passed = observed_status == status && message.is_none_or(|m| m == t.status.status_message);
    (expected, observed, passed)
}

fn trace(
    from: &str,
    to: IpAddr,
    path: &[String],
    delivered: Option<bool>,
    snap: &Snapshot,
) -> (String, String, bool) {
    let mut expected = format!("trace {from} -> {to}:");
    if !path.is_empty() {
        expected.push_str(&format!(" {}", path.join(" > ")));
    }
    match delivered {
        Some(true) => expected.push_str(" delivered"),
        Some(false) => expected.push_str(" dropped"),
        None => {}
    }
    let observed_trace = match snap.traces.get(&(from.to_string(), to)) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return (expected, format!("trace {from} -> {to}: {e}"), false),
        None => {
            return (
                expected,
                format!("trace {from} -> {to}: not observed"),
                false,
            )
        }
    };
    let hops = observed_trace.path();
    let observed = format!(
        "trace {from} -> {to}: {} ({})",
        hops.join(" > "),
        observed_trace.outcome
    );
    let passed = (path.is_empty() || hops == path)
        && delivered.is_none_or(|d| observed_trace.delivered == d);
    (expected, observed, passed)
}

/// Reads from the lab what `expectations` need; nodes in `skip_nodes`
/// (routers a real router stands for) are not asked.
pub async fn observe(
    lab: &LabHandle,
    expectations: &[Expectation],
    skip_nodes: &[String],
) -> Snapshot {
    let mut snap = Snapshot::default();
    let skipped = |node: &str| skip_nodes.iter().any(|s| s == node);
    let mut want_sessions = false;
    for e in expectations {
        match &e.check {
            Check::Route { node, .. } => {
                if skipped(node)
                    || snap.routes.contains_key(node)
                    || snap.route_errors.contains_key(node)
                {
                    continue;
                }
                match lab.node_routes(node).await {
                    Ok(r) => {
                        snap.routes.insert(node.clone(), r.routes);
                    }
                    Err(err) => {
                        snap.route_errors.insert(node.clone(), err.to_string());
                    }
                }
            }
            Check::Session { node, .. } => want_sessions |= !skipped(node),
            Check::Tunnel { vgw, .. } => {
                if let Entry::Vacant(slot) = snap.vgws.entry(vgw.clone()) {
                    slot.insert(lab.vgw(vgw).await.map_err(|e| e.to_string()));
                }
            }
            Check::Trace { from, to, .. } => {
                if let Entry::Vacant(slot) = snap.traces.entry((from.clone(), *to)) {
                    slot.insert(lab.trace(from, *to).await.map_err(|e| e.to_string()));
                }
            }
        }
    }
    if want_sessions {
        snap.sessions = lab.sessions().await;
    }
    snap
}

/// Observes every [`POLL`] until every expectation holds or `timeout`
/// passes; returns the last verdicts. `extra` adds to each snapshot what
/// the lab cannot see (a real router's table, read by the caller).
pub async fn converge(
    lab: &LabHandle,
    expectations: &[Expectation],
    skip_nodes: &[String],
    timeout: Duration,
    mut extra: impl FnMut(&mut Snapshot),
) -> Vec<Verdict> {
    poll_until(
        expectations,
        timeout,
        || observe(lab, expectations, skip_nodes),
        &mut extra,
    )
    .await
}

/// [`converge`] over any source of snapshots.
async fn poll_until<F, Fut>(
    expectations: &[Expectation],
    timeout: Duration,
    mut snapshot: F,
    extra: &mut impl FnMut(&mut Snapshot),
) -> Vec<Verdict>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Snapshot>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let mut snap = snapshot().await;
        extra(&mut snap);
        let verdicts = verify(expectations, &snap);
        if verdicts.iter().all(|v| v.passed) || tokio::time::Instant::now() >= deadline {
            return verdicts;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybridlab_cloud::decision::Rule;
    use hybridlab_cloud::fabric::{Hop, NodeKind};

    fn verdict(passed: bool, description: Option<&str>) -> Verdict {
        Verdict {
            at: "lab.toml:12".to_string(),
            description: description.map(str::to_string),
            expected: "prod: 172.16.0.0/16 via vgw1".to_string(),
            observed: "prod: no route 172.16.0.0/16; has 10.0.0.0/16 local".to_string(),
            passed,
        }
    }

    #[test]
    fn a_pass_is_one_line_a_failure_three() {
        assert_eq!(
            verdict(true, Some("DX is preferred")).to_string(),
            "ok   lab.toml:12 DX is preferred"
        );
        assert_eq!(
            verdict(false, Some("DX is preferred")).to_string(),
            "FAIL lab.toml:12 DX is preferred\n\
             \x20    expected: prod: 172.16.0.0/16 via vgw1\n\
             \x20    observed: prod: no route 172.16.0.0/16; has 10.0.0.0/16 local"
        );
        assert_eq!(
            verdict(true, None).to_string(),
            "ok   lab.toml:12 prod: 172.16.0.0/16 via vgw1"
        );
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn row(prefix: &str, via: &str) -> NodeRoute {
        NodeRoute {
            prefix: net(prefix),
            via: via.to_string(),
            egress: None,
            origin: "propagated".to_string(),
            as_path: Vec::new(),
            med: None,
            communities: Vec::new(),
            rule: None,
            active: true,
        }
    }

    fn expect(check: Check) -> Expectation {
        Expectation {
            at: "lab.toml:7".to_string(),
            description: Some("the test".to_string()),
            check,
        }
    }

    fn route_check(node: &str, prefix: &str) -> Check {
        Check::Route {
            node: node.to_string(),
            prefix: net(prefix),
            present: true,
            via: None,
            as_path: None,
            med: None,
            rule: None,
            origin: None,
            communities: None,
        }
    }

    /// A route expectation with some fields set by `set`.
    fn route(node: &str, prefix: &str, set: impl FnOnce(&mut Check)) -> Expectation {
        let mut check = route_check(node, prefix);
        set(&mut check);
        expect(check)
    }

    fn snapshot(node: &str, rows: Vec<NodeRoute>) -> Snapshot {
        let mut snap = Snapshot::default();
        snap.routes.insert(node.to_string(), rows);
        snap
    }

    fn one(e: Expectation, snap: &Snapshot) -> Verdict {
        match verify(&[e], snap).pop() {
            Some(v) => v,
            None => panic!("no verdict"),
        }
    }

    macro_rules! field {
        ($check:expr, $name:ident = $value:expr) => {
            if let Check::Route { $name, .. } = $check {
                *$name = Some($value);
            }
        };
    }

    #[test]
    fn via_matches_the_target_or_the_egress_behind_it() {
        let mut r = row("172.16.0.0/16", "vgw1");
        r.egress = Some("backup/tunnel1".to_string());
        let snap = snapshot("prod", vec![r]);
        let v = one(
            route("prod", "172.16.0.0/16", |c| {
                field!(c, via = "vgw1".to_string());
                field!(c, origin = "propagated".to_string());
            }),
            &snap,
        );
        assert!(v.passed, "{v:?}");
        assert_eq!(v.expected, "prod: 172.16.0.0/16 via vgw1 origin propagated");
        assert_eq!(
            v.observed,
            "prod: 172.16.0.0/16 via vgw1 origin propagated (egress backup/tunnel1)"
        );
        let v = one(
            route("prod", "172.16.0.0/16", |c| {
                field!(c, via = "backup/tunnel1".to_string())
            }),
            &snap,
        );
        assert!(v.passed, "{v:?}");
        let v = one(
            route("prod", "172.16.0.0/16", |c| {
                field!(c, via = "primary".to_string())
            }),
            &snap,
        );
        assert!(!v.passed);
        assert_eq!(v.expected, "prod: 172.16.0.0/16 via primary");
    }

    #[test]
    fn a_missing_route_lists_what_the_node_has() {
        let mut local = row("10.0.0.0/16", "local");
        local.origin = "local".to_string();
        let snap = snapshot("prod", vec![local]);
        let v = one(route("prod", "172.16.0.0/16", |_| {}), &snap);
        assert!(!v.passed);
        assert_eq!(v.expected, "prod: 172.16.0.0/16");
        assert_eq!(
            v.observed,
            "prod: no route 172.16.0.0/16; has 10.0.0.0/16 local"
        );
        let v = one(
            route("prod", "172.16.0.0/16", |_| {}),
            &snapshot("prod", vec![]),
        );
        assert_eq!(v.observed, "prod: no route 172.16.0.0/16; no routes at all");
    }

    #[test]
    fn the_prefix_must_match_exactly() {
        let snap = snapshot("prod", vec![row("172.16.0.0/12", "vgw1")]);
        assert!(!one(route("prod", "172.16.0.0/16", |_| {}), &snap).passed);
        assert!(one(route("prod", "172.16.0.0/12", |_| {}), &snap).passed);
    }

    #[test]
    fn absent_passes_only_without_a_route() {
        let absent = || {
            route("vgw1", "192.168.0.0/16", |c| {
                if let Check::Route { present, .. } = c {
                    *present = false;
                }
            })
        };
        let v = one(absent(), &snapshot("vgw1", vec![row("10.0.0.0/8", "x")]));
        assert!(v.passed, "{v:?}");
        assert_eq!(v.expected, "vgw1: no route 192.168.0.0/16");
        let v = one(
            absent(),
            &snapshot("vgw1", vec![row("192.168.0.0/16", "x")]),
        );
        assert!(!v.passed);
        assert_eq!(v.observed, "vgw1: 192.168.0.0/16 via x");
    }

    #[test]
    fn the_active_row_is_compared_else_the_first() {
        let mut loser = row("172.16.0.0/16", "backup/tunnel1");
        loser.active = false;
        loser.rule = Some(Rule::SourcePreference);
        let mut winner = row("172.16.0.0/16", "primary");
        winner.rule = Some(Rule::SourcePreference);
        let snap = snapshot("vgw1", vec![loser.clone(), winner]);
        let via_tunnel = || {
            route("vgw1", "172.16.0.0/16", |c| {
                field!(c, via = "backup/tunnel1".to_string())
            })
        };
        let v = one(via_tunnel(), &snap);
        assert!(!v.passed);
        assert_eq!(
            v.observed,
            "vgw1: 172.16.0.0/16 via primary; other paths via backup/tunnel1"
        );
        let v = one(via_tunnel(), &snapshot("vgw1", vec![loser]));
        assert!(v.passed, "{v:?}");
        assert_eq!(
            v.observed,
            "vgw1: 172.16.0.0/16 via backup/tunnel1 (not active)"
        );
    }

    #[test]
    fn as_path_med_and_rule_compare_exactly() {
        let mut r = row("172.16.0.0/16", "primary");
        r.as_path = vec![65000, 65010];
        r.med = Some(50);
        r.rule = Some(Rule::ShortestAsPath);
        let snap = snapshot("vgw1", vec![r]);
        let check = |set: &dyn Fn(&mut Check)| one(route("vgw1", "172.16.0.0/16", set), &snap);
        let v = check(&|c| field!(c, as_path = vec![65000, 65010]));
        assert!(v.passed, "{v:?}");
        let v = check(&|c| field!(c, as_path = vec![65000]));
        assert!(!v.passed);
        assert_eq!(v.expected, "vgw1: 172.16.0.0/16 as_path 65000");
        assert_eq!(
            v.observed,
            "vgw1: 172.16.0.0/16 via primary as_path 65000 65010"
        );
        assert!(check(&|c| field!(c, med = 50)).passed);
        let v = check(&|c| field!(c, med = 10));
        assert!(!v.passed);
        assert_eq!(v.observed, "vgw1: 172.16.0.0/16 via primary med 50");
        assert!(check(&|c| field!(c, rule = "shortest_as_path".to_string())).passed);
        let v = check(&|c| field!(c, rule = "lowest_med".to_string()));
        assert!(!v.passed);
        assert_eq!(v.expected, "vgw1: 172.16.0.0/16 rule lowest_med");
        assert_eq!(
            v.observed,
            "vgw1: 172.16.0.0/16 via primary rule shortest_as_path"
        );
    }

    #[test]
    fn a_route_without_med_or_rule_says_so() {
        let snap = snapshot("onprem", vec![row("10.0.0.0/16", "vgw1")]);
        let v = one(
            route("onprem", "10.0.0.0/16", |c| field!(c, med = 0)),
            &snap,
        );
        assert!(!v.passed);
        assert_eq!(v.observed, "onprem: 10.0.0.0/16 via vgw1 no med");
        let v = one(
            route("onprem", "10.0.0.0/16", |c| {
                field!(c, rule = "only_candidate".to_string())
            }),
            &snap,
        );
        assert!(!v.passed);
        assert_eq!(v.observed, "onprem: 10.0.0.0/16 via vgw1 no rule");
    }

    #[test]
    fn origin_compares_as_written() {
        let mut r = row("10.0.0.0/16", "vgw1");
        r.origin = "igp".to_string();
        let snap = snapshot("onprem", vec![r]);
        let at = |o: &str| {
            let o = o.to_string();
            one(
                route("onprem", "10.0.0.0/16", |c| field!(c, origin = o)),
                &snap,
            )
        };
        assert!(at("igp").passed);
        let v = at("incomplete");
        assert!(!v.passed);
        assert_eq!(v.observed, "onprem: 10.0.0.0/16 via vgw1 origin igp");
    }

    #[test]
    fn communities_are_a_set_and_names_equal_numbers() {
        let mut r = row("10.0.0.0/16", "vgw1");
        r.communities = vec!["7224:7100".to_string(), "65535:65281".to_string()];
        let snap = snapshot("onprem", vec![r]);
        let with = |list: &[&str]| {
            let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            one(
                route("onprem", "10.0.0.0/16", |c| field!(c, communities = list)),
                &snap,
            )
        };
        assert!(with(&["no-export", "7224:7100"]).passed);
        assert!(with(&["65535:65281", "7224:7100"]).passed);
        let v = with(&["7224:7100"]);
        assert!(!v.passed);
        assert_eq!(v.expected, "onprem: 10.0.0.0/16 communities 7224:7100");
        assert_eq!(
            v.observed,
            "onprem: 10.0.0.0/16 via vgw1 communities 7224:7100 65535:65281"
        );
        assert!(!with(&[]).passed);
    }

    #[test]
    fn a_node_that_cannot_be_read_fails_with_the_reason() {
        let mut snap = Snapshot::default();
        snap.route_errors
            .insert("nope".to_string(), "no node `nope`".to_string());
        let v = one(route("nope", "10.0.0.0/8", |_| {}), &snap);
        assert!(!v.passed);
        assert_eq!(v.observed, "nope: cannot read routes: no node `nope`");
        let v = one(route("other", "10.0.0.0/8", |_| {}), &snap);
        assert_eq!(v.observed, "other: cannot read routes: not observed");
    }

    fn session_check(state: &str, idle_reason: Option<&str>) -> Expectation {
        expect(Check::Session {
            node: "vgw1".to_string(),
            peer: "backup-1".to_string(),
            state: state.to_string(),
            idle_reason: idle_reason.map(str::to_string),
        })
    }

    fn sessions(state: &str, idle_reason: Option<&str>) -> Snapshot {
        Snapshot {
            sessions: vec![SessionView {
                router: "vgw1".to_string(),
                neighbor: "backup-1".to_string(),
                state: state.to_string(),
                idle_reason: idle_reason.map(str::to_string),
                ..SessionView::default()
            }],
            ..Snapshot::default()
        }
    }

    fn tunnel_check(status: &str, message: Option<&str>) -> Expectation {
        expect(Check::Tunnel {
            vgw: "vgw1".to_string(),
            tunnel: "static/tunnel1".to_string(),
            status: status.to_string(),
            status_message: message.map(str::to_string),
        })
    }

    /// A VGW view with one tunnel, as the API serializes it (the fabric
    /// keeps `TunnelView` to itself).
    fn vgw_with(state: &str, message: &str) -> Snapshot {
        let json = serde_json::json!({
            "name": "vgw1",
            "asn": 64512,
            "vpc": null,
            "primary_tunnel": null,
            "tunnels": [{
                "tunnel": { "connection": "static", "tunnel": 1 },
                "status": state,
                "status_message": message,
                "accepted_route_count": 0
            }],
            "routes": []
        });
        let view: VgwView =
            serde_json::from_value(json).unwrap_or_else(|e| panic!("VGW view: {e}"));
        let mut snap = Snapshot::default();
        snap.vgws.insert("vgw1".to_string(), Ok(view));
        snap
    }

    #[test]
    fn tunnels_match_status_and_message() {
        let down = vgw_with("DOWN", "IPSEC IS DOWN");
        let v = one(tunnel_check("DOWN", Some("IPSEC IS DOWN")), &down);
        assert!(v.passed, "{v:?}");
        assert_eq!(
            v.expected,
            "vgw1: tunnel static/tunnel1 DOWN \"IPSEC IS DOWN\""
        );
        assert!(one(tunnel_check("DOWN", None), &down).passed);
        let v = one(tunnel_check("UP", None), &down);
        assert!(!v.passed);
        assert_eq!(
            v.observed,
            "vgw1: tunnel static/tunnel1 DOWN \"IPSEC IS DOWN\""
        );
        let up = vgw_with("UP", "");
        assert!(one(tunnel_check("UP", Some("")), &up).passed);
        assert!(!one(tunnel_check("UP", Some("IPSEC IS DOWN")), &up).passed);
        let v = one(tunnel_check("UP", None), &Snapshot::default());
        assert_eq!(v.observed, "vgw1: not observed");
    }

    #[test]
    fn sessions_match_state_and_idle_reason() {
        let up = sessions("Established", None);
        let v = one(session_check("Established", None), &up);
        assert!(v.passed, "{v:?}");
        assert_eq!(v.expected, "vgw1: session backup-1 Established");
        assert_eq!(v.observed, "vgw1: session backup-1 Established");
        let parked = sessions("Idle", Some("prefix limit"));
        assert!(one(session_check("Idle", None), &parked).passed);
        assert!(one(session_check("Idle", Some("Prefix Limit")), &parked).passed);
        let v = one(session_check("Idle", Some("bfd down")), &parked);
        assert!(!v.passed);
        assert_eq!(v.expected, "vgw1: session backup-1 Idle (bfd down)");
        assert_eq!(v.observed, "vgw1: session backup-1 Idle (prefix limit)");
        assert!(
            !one(
                session_check("Idle", Some("bfd down")),
                &sessions("Idle", None)
            )
            .passed
        );
        let v = one(session_check("Established", None), &Snapshot::default());
        assert!(!v.passed);
        assert_eq!(v.observed, "vgw1: no session backup-1");
    }

    fn hop(node: &str, kind: NodeKind) -> Hop {
        Hop {
            node: node.to_string(),
            kind,
            matched: None,
            chose: String::new(),
            rule: None,
            losers: Vec::new(),
        }
    }

    fn traced(delivered: bool) -> Snapshot {
        let to: IpAddr = [172, 16, 1, 1].into();
        let t = Trace {
            from: "prod".to_string(),
            to,
            hops: vec![
                hop("prod", NodeKind::Vpc),
                hop("vgw1", NodeKind::Vgw),
                hop("primary", NodeKind::Vif),
                hop("onprem", NodeKind::Router),
            ],
            delivered,
            outcome: "delivered to onprem via primary".to_string(),
        };
        let mut snap = Snapshot::default();
        snap.traces.insert(("prod".to_string(), to), Ok(t));
        snap
    }

    fn trace_check(path: &[&str], delivered: Option<bool>) -> Expectation {
        expect(Check::Trace {
            from: "prod".to_string(),
            to: [172, 16, 1, 1].into(),
            path: path.iter().map(|s| s.to_string()).collect(),
            delivered,
        })
    }

    #[test]
    fn traces_match_the_path_and_delivery() {
        let snap = traced(true);
        let v = one(
            trace_check(&["prod", "vgw1", "primary", "onprem"], Some(true)),
            &snap,
        );
        assert!(v.passed, "{v:?}");
        assert_eq!(
            v.expected,
            "trace prod -> 172.16.1.1: prod > vgw1 > primary > onprem delivered"
        );
        assert_eq!(
            v.observed,
            "trace prod -> 172.16.1.1: prod > vgw1 > primary > onprem (delivered to onprem via primary)"
        );
        assert!(one(trace_check(&[], Some(true)), &snap).passed);
        assert!(one(trace_check(&[], None), &snap).passed);
        assert!(!one(trace_check(&[], Some(false)), &snap).passed);
        assert!(
            !one(
                trace_check(&["prod", "vgw1", "backup/tunnel1", "onprem"], None),
                &snap
            )
            .passed
        );
        assert!(one(trace_check(&[], Some(false)), &traced(false)).passed);
    }

    #[test]
    fn a_trace_that_failed_shows_why() {
        let mut snap = Snapshot::default();
        let to: IpAddr = [172, 16, 1, 1].into();
        snap.traces
            .insert(("prod".to_string(), to), Err("no VPC `prod`".to_string()));
        let v = one(trace_check(&[], Some(true)), &snap);
        assert!(!v.passed);
        assert_eq!(v.observed, "trace prod -> 172.16.1.1: no VPC `prod`");
    }

    #[test]
    fn verdicts_keep_place_and_description() {
        let v = one(route("prod", "10.0.0.0/16", |_| {}), &Snapshot::default());
        assert_eq!(v.at, "lab.toml:7");
        assert_eq!(v.description.as_deref(), Some("the test"));
    }

    #[tokio::test(start_paused = true)]
    async fn polling_stops_as_soon_as_everything_holds() {
        let wanted = [route("prod", "172.16.0.0/16", |_| {})];
        let start = tokio::time::Instant::now();
        let mut polls = 0;
        let verdicts = poll_until(
            &wanted,
            Duration::from_secs(30),
            || {
                polls += 1;
                let rows = if polls >= 3 {
                    vec![row("172.16.0.0/16", "vgw1")]
                } else {
                    Vec::new()
                };
                std::future::ready(snapshot("prod", rows))
            },
            &mut |_| {},
        )
        .await;
        assert!(verdicts.iter().all(|v| v.passed), "{verdicts:?}");
        assert_eq!(polls, 3);
        // The first look is immediate, then one every POLL.
        assert_eq!(start.elapsed(), POLL * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn polling_gives_up_at_the_timeout_with_the_last_verdicts() {
        let wanted = [route("prod", "172.16.0.0/16", |_| {})];
        let start = tokio::time::Instant::now();
        let mut extra_calls = 0;
        let verdicts = poll_until(
            &wanted,
            Duration::from_secs(2),
            || std::future::ready(Snapshot::default()),
            &mut |snap: &mut Snapshot| {
                extra_calls += 1;
                snap.routes.insert("prod".to_string(), Vec::new());
            },
        )
        .await;
        assert_eq!(verdicts.len(), 1);
        assert!(!verdicts[0].passed);
        // `extra` saw every snapshot: its rows are what was verified.
        assert_eq!(
            verdicts[0].observed,
            "prod: no route 172.16.0.0/16; no routes at all"
        );
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!(extra_calls, 11);
    }

    fn lab_topology() -> hybridlab_topology::Topology {
        let text = r#"
[lab]
jitter = false

[[router]]
name = "a"
asn = 65001
router_id = "10.0.0.1"
networks = ["10.1.0.0/16"]
  [[router.neighbor]]
  router = "b"

[[router]]
name = "b"
asn = 65002
router_id = "10.0.0.2"
  [[router.neighbor]]
  router = "a"
"#;
        match hybridlab_topology::parse("check.toml", text) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn converge_waits_for_a_lab_and_reads_only_what_is_asked() {
        let mut lab = crate::Lab::new(
            lab_topology(),
            crate::LabOptions {
                no_api: true,
                ..crate::LabOptions::default()
            },
        );
        if let Err(e) = lab.start().await {
            panic!("{e}");
        }
        let handle = lab.handle();
        let wanted = [
            route("b", "10.1.0.0/16", |c| {
                field!(c, via = "a".to_string());
                field!(c, as_path = vec![65001]);
                field!(c, origin = "igp".to_string());
            }),
            expect(Check::Session {
                node: "b".to_string(),
                peer: "a".to_string(),
                state: "Established".to_string(),
                idle_reason: None,
            }),
            // Skipped: filled by `extra` as a real router's table would be.
            route("a", "10.9.0.0/16", |_| {}),
        ];
        let skip = ["a".to_string()];
        let verdicts = converge(&handle, &wanted, &skip, Duration::from_secs(60), |snap| {
            assert!(!snap.routes.contains_key("a"), "a skipped node was read");
            snap.routes
                .insert("a".to_string(), vec![row("10.9.0.0/16", "local")]);
        })
        .await;
        assert!(verdicts.iter().all(|v| v.passed), "{verdicts:?}");
        let unknown = [route("nowhere", "10.1.0.0/16", |_| {})];
        let verdicts = converge(&handle, &unknown, &[], Duration::from_secs(1), |_| {}).await;
        assert!(!verdicts[0].passed);
        assert!(
            verdicts[0]
                .observed
                .starts_with("nowhere: cannot read routes: "),
            "{verdicts:?}"
        );
        lab.shutdown().await;
    }
}
