//! `[[expect]]` from the file as written to [`Expectation`]s: exactly one
//! kind per table, every node and neighbour resolved against the lab as it
//! runs (after the cloud nodes are lowered onto speakers).

use super::model::*;
use super::raw;
use crate::cloud::Cloud;
use crate::error::{Diagnostic, Locator, Report};
use crate::model::{Router, RouterRole};
use crate::raw::S;
use hybridlab_bgp::policy::parse_community;
use ipnet::IpNet;
use std::net::IpAddr;
use std::ops::Range;

/// What a run can be asked about, and what it has to answer with.
pub(crate) struct Nodes<'a> {
    pub cloud: &'a Cloud,
    /// After lowering: the file's routers and the cloud speakers.
    pub routers: &'a [Router],
    /// Routers a real router takes the place of.
    pub external: &'a [String],
}

pub(crate) fn check(
    loc: &Locator<'_>,
    raw: &[S<raw::Expect>],
    nodes: &Nodes<'_>,
) -> (Vec<Expectation>, Vec<Diagnostic>) {
    let mut c = Checker {
        loc,
        lab: nodes,
        errors: Vec::new(),
    };
    let out = raw.iter().filter_map(|e| c.expectation(e)).collect();
    (out, c.errors)
}

struct Checker<'a, 'b> {
    loc: &'a Locator<'b>,
    lab: &'a Nodes<'a>,
    errors: Vec<Diagnostic>,
}

impl Report for Checker<'_, '_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(self.loc.diagnostic(span, message));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Route,
    Session,
    Trace,
    Tunnel,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Route => "prefix",
            Kind::Session => "peer",
            Kind::Trace => "trace",
            Kind::Tunnel => "tunnel",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Route => "a route expectation (`prefix`)",
            Kind::Session => "a session expectation (`peer`)",
            Kind::Trace => "a trace expectation (`trace`)",
            Kind::Tunnel => "a tunnel expectation (`tunnel`)",
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Route => &[
                "node",
                "prefix",
                "absent",
                "via",
                "as_path",
                "med",
                "rule",
                "origin",
                "communities",
            ],
            Kind::Session => &["node", "peer", "state", "idle_reason"],
            Kind::Trace => &["trace", "path", "delivered"],
            Kind::Tunnel => &["tunnel", "status", "status_message"],
        }
    }
}

/// The fields given in one `[[expect]]`, with where they are.
fn given(e: &raw::Expect) -> Vec<(&'static str, Range<usize>)> {
    fn at<T>(v: &Option<S<T>>) -> Option<Range<usize>> {
        v.as_ref().map(S::span)
    }
    [
        ("description", at(&e.description)),
        ("node", at(&e.node)),
        ("prefix", at(&e.prefix)),
        ("absent", at(&e.absent)),
        ("via", at(&e.via)),
        ("as_path", at(&e.as_path)),
        ("med", at(&e.med)),
        ("rule", at(&e.rule)),
        ("origin", at(&e.origin)),
        ("communities", at(&e.communities)),
        ("peer", at(&e.peer)),
        ("state", at(&e.state)),
        ("idle_reason", at(&e.idle_reason)),
        ("trace", at(&e.trace)),
        ("path", at(&e.path)),
        ("delivered", at(&e.delivered)),
        ("tunnel", at(&e.tunnel)),
        ("status", at(&e.status)),
        ("status_message", at(&e.status_message)),
    ]
    .into_iter()
    .filter_map(|(name, span)| Some((name, span?)))
    .collect()
}

/// An optional field: `Some(None)` when not given, `None` when given but
/// refused by `check` (which reported why).
fn optional<R, T>(given: Option<&R>, check: impl FnOnce(&R) -> Option<T>) -> Option<Option<T>> {
    match given {
        None => Some(None),
        Some(r) => check(r).map(Some),
    }
}

/// What a node of an expectation names.
enum Node<'a> {
    /// A VPC route table.
    Table,
    /// A BGP speaker: a `[[router]]`, a VGW or a DX gateway.
    Speaker(&'a Router),
    /// A `[[router]]` a real router stands for: its table is read from the
    /// real router (`hybridlab check` skips it; an interop test fills it).
    External,
}

impl<'a> Checker<'a, '_> {
    fn expectation(&mut self, s: &S<raw::Expect>) -> Option<Expectation> {
        let e = s.get_ref();
        let fields = given(e);
        let kinds: Vec<(Kind, Range<usize>)> =
            [Kind::Route, Kind::Session, Kind::Trace, Kind::Tunnel]
                .into_iter()
                .filter_map(|k| {
                    let (_, span) = fields.iter().find(|(f, _)| *f == k.key())?;
                    Some((k, span.clone()))
                })
                .collect();
        let kind = match kinds.as_slice() {
            [] => {
                self.err(s.span(), "[[expect]] needs one of `prefix` (a route), `peer` (a session), `trace` (a packet's path) or `tunnel` (a VPN tunnel's status)");
                return None;
            }
            [(k, _)] => *k,
            [(a, _), (b, span), ..] => {
                self.err(
                    span.clone(),
                    format!("[[expect]] checks one thing: `{}` and `{}` cannot go together; write two [[expect]]s", a.key(), b.key()),
                );
                return None;
            }
        };
        let mut ok = true;
        for (field, span) in &fields {
            if *field != "description" && !kind.fields().contains(field) {
                self.err(
                    span.clone(),
                    format!("`{field}` does not belong in {}", kind.what()),
                );
                ok = false;
            }
        }
        let check = match kind {
            Kind::Route => self.route(s),
            Kind::Session => self.session(s),
            Kind::Trace => self.trace(e),
            Kind::Tunnel => self.tunnel(s),
        };
        let at = self.loc.diagnostic(s.span(), "");
        Some(Expectation {
            at: format!("{}:{}", at.file, at.line),
            description: e.description.as_ref().map(|d| d.get_ref().clone()),
            check: check.filter(|_| ok)?,
        })
    }

    /// `node`, required by routes and sessions.
    fn node(&mut self, s: &S<raw::Expect>) -> Option<(String, Node<'a>)> {
        let Some(v) = &s.get_ref().node else {
            self.err(s.span(), "[[expect]] of a route or a session needs `node`");
            return None;
        };
        let name = v.get_ref();
        let lab = self.lab;
        if let Some((vpc, table)) = name.split_once('/') {
            if let Some(p) = lab.cloud.vpc(vpc) {
                if p.route_tables.iter().any(|t| t.config.name == table) {
                    return Some((name.clone(), Node::Table));
                }
                self.err(
                    v.span(),
                    format!("VPC `{vpc}` has no route table named `{table}`"),
                );
                return None;
            }
        }
        let vpc = lab.cloud.vpc(name).is_some();
        let router = lab.routers.iter().find(|r| &r.name == name);
        match (vpc, router) {
            (true, None) => Some((name.clone(), Node::Table)),
            (false, Some(r)) => Some((name.clone(), Node::Speaker(r))),
            (true, Some(_)) => {
                self.err(
                    v.span(),
                    format!("`{name}` is both a VPC and a BGP speaker; rename one of them"),
                );
                None
            }
            (false, None) if lab.external.contains(name) => Some((name.clone(), Node::External)),
            (false, None) => {
                self.err(
                    v.span(),
                    format!("`{name}` is not a VPC, VPC/TABLE, VGW, DX gateway or [[router]] of this lab"),
                );
                None
            }
        }
    }

    fn route(&mut self, s: &S<raw::Expect>) -> Option<Check> {
        let e = s.get_ref();
        let node = self.node(s);
        let prefix = e.prefix.as_ref().and_then(|p| self.prefix(p));
        let present = !e.absent.as_ref().is_some_and(|a| *a.get_ref());
        if !present {
            let attributes = given(e).into_iter().filter(|(f, _)| {
                ["via", "as_path", "med", "rule", "origin", "communities"].contains(f)
            });
            for (field, span) in attributes {
                self.err(
                    span,
                    format!(
                        "`{field}` describes a route that is there; drop it or `absent = true`"
                    ),
                );
            }
        }
        let max = i64::from(u32::MAX);
        let as_path = optional(e.as_path.as_ref(), |p| {
            let path: Vec<Option<u32>> = p
                .get_ref()
                .iter()
                .map(|asn| self.int(asn, "as_path", 1, max))
                .collect();
            path.into_iter().collect()
        });
        let med = optional(e.med.as_ref(), |m| self.int(m, "med", 0, max));
        let rule = optional(e.rule.as_ref(), |r| {
            let name = r.get_ref();
            if RULES.contains(&name.as_str()) {
                return Some(name.clone());
            }
            let all = RULES.join(", ");
            self.err(
                r.span(),
                format!("`{name}` is not a rule: expected one of {all}"),
            );
            None
        });
        let kind = node.as_ref().map(|(_, n)| match n {
            Node::Table => ("a VPC route", &VPC_ORIGINS[..]),
            Node::Speaker(r) if r.role == RouterRole::PublicVif => {
                ("a public VIF's route", &PUBLIC_VIF_ORIGINS[..])
            }
            Node::Speaker(r) if r.role != RouterRole::Router => {
                ("a gateway's route", &GATEWAY_ORIGINS[..])
            }
            Node::Speaker(_) | Node::External => ("a BGP route", &BGP_ORIGINS[..]),
        });
        let origin = optional(e.origin.as_ref(), |o| {
            let (of, allowed) = kind?;
            let name = o.get_ref();
            if allowed.contains(&name.as_str()) {
                return Some(name.clone());
            }
            let all = allowed.join(", ");
            self.err(
                o.span(),
                format!("`{name}` is not an origin of {of}: expected one of {all}"),
            );
            None
        });
        let communities = optional(e.communities.as_ref(), |list| {
            let mut ok = true;
            for c in list.get_ref() {
                if let Err(err) = parse_community(c.get_ref()) {
                    self.err(
                        c.span(),
                        format!(
                            "{err} (expected ASN:VALUE or a well-known name such as no-export)"
                        ),
                    );
                    ok = false;
                }
            }
            ok.then(|| list.get_ref().iter().map(|c| c.get_ref().clone()).collect())
        });
        Some(Check::Route {
            node: node?.0,
            prefix: prefix?,
            present,
            via: e.via.as_ref().map(|v| v.get_ref().clone()),
            as_path: as_path?,
            med: med?,
            rule: rule?,
            origin: origin?,
            communities: communities?,
        })
    }

    /// A prefix with its host bits clear.
    fn prefix(&mut self, v: &S<String>) -> Option<IpNet> {
        let net: IpNet = self.parsed(v, "a prefix (ADDRESS/LENGTH)")?;
        if net.trunc() != net {
            self.err(
                v.span(),
                format!("prefix `{net}` has host bits set; write {}", net.trunc()),
            );
            return None;
        }
        Some(net)
    }

    fn session(&mut self, s: &S<raw::Expect>) -> Option<Check> {
        let e = s.get_ref();
        let node = self.node(s);
        let peer = e.peer.as_ref()?;
        let state = match &e.state {
            None => {
                self.err(s.span(), "[[expect]] of a session needs `state`");
                None
            }
            Some(v) if !SESSION_STATES.contains(&v.get_ref().as_str()) => {
                self.err(
                    v.span(),
                    format!(
                        "`{}` is not a session state: expected one of {}",
                        v.get_ref(),
                        SESSION_STATES.join(", ")
                    ),
                );
                None
            }
            Some(v) => Some(v.get_ref().clone()),
        };
        if let (Some(r), Some(st)) = (&e.idle_reason, &state) {
            if st != "Idle" {
                self.err(r.span(), "`idle_reason` goes with `state = \"Idle\"`");
            }
        }
        let (node, found) = match node? {
            (name, Node::Speaker(r)) => {
                // A static VPN's tunnel-only neighbour has no session.
                let sessions = r.neighbors.iter().filter(|n| n.bgp);
                let found = sessions.clone().any(|n| &n.name == peer.get_ref());
                if !found {
                    let names: Vec<&str> = sessions.map(|n| n.name.as_str()).collect();
                    let list = if names.is_empty() {
                        "it has none".to_string()
                    } else {
                        format!("it has {}", names.join(", "))
                    };
                    self.err(
                        peer.span(),
                        format!(
                            "`{name}` has no neighbor named `{}`; {list}",
                            peer.get_ref()
                        ),
                    );
                }
                (name, found)
            }
            (name, Node::Table) => {
                let at = e.node.as_ref().map_or(s.span(), S::span);
                self.err(
                    at,
                    format!("`{name}` is a VPC route table; sessions belong to a [[router]], a VGW or a DX gateway"),
                );
                return None;
            }
            (name, Node::External) => {
                let at = e.node.as_ref().map_or(s.span(), S::span);
                self.err(
                    at,
                    format!("`{name}` is external: a real router, whose sessions the lab cannot see; expect them on the cloud's side"),
                );
                return None;
            }
        };
        Some(Check::Session {
            node,
            peer: peer.get_ref().clone(),
            state: state.filter(|_| found)?,
            idle_reason: e.idle_reason.as_ref().map(|r| r.get_ref().clone()),
        })
    }

    /// `tunnel = "VPN/tunnelN"`: a tunnel of a `[[vpn]]`, as the VGW view
    /// names it.
    fn tunnel(&mut self, s: &S<raw::Expect>) -> Option<Check> {
        let e = s.get_ref();
        let t = e.tunnel.as_ref()?;
        let name = t.get_ref();
        let vpn = name
            .split_once("/tunnel")
            .filter(|(_, n)| matches!(*n, "1" | "2"))
            .and_then(|(vpn, _)| self.lab.cloud.vpns.iter().find(|v| v.name == vpn));
        if vpn.is_none() {
            self.err(
                t.span(),
                format!("`{name}` is not a VPN tunnel of this lab: write VPN/tunnel1 or VPN/tunnel2 with the name of a [[vpn]]"),
            );
        }
        let status = match &e.status {
            None => {
                self.err(
                    s.span(),
                    "[[expect]] of a tunnel needs `status` (\"UP\" or \"DOWN\")",
                );
                None
            }
            Some(v) if !TUNNEL_STATES.contains(&v.get_ref().as_str()) => {
                self.err(
                    v.span(),
                    format!(
                        "`{}` is not a tunnel status: expected one of {}",
                        v.get_ref(),
                        TUNNEL_STATES.join(", ")
                    ),
                );
                None
            }
            Some(v) => Some(v.get_ref().clone()),
        };
        Some(Check::Tunnel {
            vgw: vpn?.vgw.clone(),
            tunnel: name.clone(),
            status: status?,
            status_message: e.status_message.as_ref().map(|m| m.get_ref().clone()),
        })
    }

    fn trace(&mut self, e: &raw::Expect) -> Option<Check> {
        let t = e.trace.as_ref()?.get_ref();
        let from = t.from.get_ref();
        let known = self.lab.cloud.vpc(from).is_some();
        if !known {
            self.err(
                t.from.span(),
                format!("a trace starts in a VPC; no [[vpc]] named `{from}`"),
            );
        }
        let to: Option<IpAddr> = self.parsed(&t.to, "an IP address for `to`");
        Some(Check::Trace {
            from: known.then(|| from.clone())?,
            to: to?,
            path: e
                .path
                .as_ref()
                .map(|p| p.get_ref().iter().map(|n| n.get_ref().clone()).collect())
                .unwrap_or_default(),
            delivered: e.delivered.as_ref().map(|d| *d.get_ref()),
        })
    }
}
