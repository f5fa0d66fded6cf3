//! A scenario's customer router as a real router: the `[[router]]` of a
//! topology under `topologies/` written out as an FRR 8.4 bgpd or BIRD 2
//! configuration, and the real router's table read back as the rows
//! `hybridlab check` compares (`hybridlab_runtime::check::Snapshot`).
//!
//! What the generator translates, and nothing more: ASN, router ID, IPv4
//! `networks`, and every cloud session the lowering gave the router
//! (addresses, remote AS, MD5, hold time, BFD), each with at most one export
//! policy whose terms match `prefixes` and/or `communities` and then
//! `reject` or `accept` with `prepend`, `med` and `add_communities`; the
//! policy's default. Anything else (import policies, `local_pref`,
//! `remove_communities`, chained policies, IPv6, `[[router.neighbor]]`s of
//! its own) is refused with an error rather than configured differently.
//!
//! Read back: prefix, the session a path came from (by the AWS address) or
//! "local", AS_PATH, ORIGIN, MED, and which path is best. FRR's table JSON
//! carries no communities, so FRR rows have none; BIRD's do.

use super::bird::BirdRoute;
use super::frr::{FrrBfdProfile, FrrConfig, FrrNeighbor};
use super::render_template;
use hybridlab_bgp::packet::Community;
use hybridlab_bgp::policy::{Action, Policy, Term};
use hybridlab_cloud::fabric::NodeRoute;
use hybridlab_topology::{NeighborKind, Topology};
use serde_json::Value;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// The customer's router of a scenario, as far as a real router needs it.
#[derive(Clone, Debug)]
pub struct CustomerRouter {
    pub name: String,
    pub asn: u32,
    pub router_id: Ipv4Addr,
    pub networks: Vec<String>,
    pub sessions: Vec<CloudSession>,
}

/// One session the cloud generated with the router, from its side.
#[derive(Clone, Debug)]
pub struct CloudSession {
    /// "VPN/tunnelN" or the VIF's name, as on both ends in the topology.
    pub name: String,
    /// The customer's address: the .2 of the /30.
    pub customer: Ipv4Addr,
    /// The cloud's address: the .1 of the /30.
    pub aws: Ipv4Addr,
    pub remote_asn: u32,
    pub md5: Option<String>,
    pub hold_time: u16,
    /// (min TX ms, min RX ms, multiplier).
    pub bfd: Option<(u32, u32, u8)>,
    pub export: Option<Policy>,
}

impl CustomerRouter {
    /// `router` of `topology`, parsed with the router emulated (plain
    /// `parse`), so that its cloud sessions are in the model.
    pub fn from_topology(topology: &Topology, router: &str) -> Result<Self, String> {
        let r = topology
            .router(router)
            .ok_or_else(|| format!("no router `{router}` in {}", topology.file))?;
        let mut networks = Vec::new();
        for p in &r.networks {
            let text = p.to_string();
            if text.contains(':') {
                return Err(format!("{router}: IPv6 network {text} is not supported"));
            }
            networks.push(text);
        }
        let mut sessions = Vec::new();
        for n in &r.neighbors {
            if n.cloud_path.is_none() {
                return Err(format!(
                    "{router}: neighbor `{}` is not a cloud session; only those are generated",
                    n.name
                ));
            }
            let NeighborKind::Emulated(link) = &n.kind else {
                return Err(format!("{router}: `{}` is not a virtual link", n.name));
            };
            let (IpAddr::V4(customer), IpAddr::V4(aws)) = (link.local_address, link.remote_address)
            else {
                return Err(format!("{router}: `{}` is not IPv4", n.name));
            };
            if !n.import.is_empty() {
                return Err(format!(
                    "{router}: `{}`: import policies are not supported",
                    n.name
                ));
            }
            let export = match n.export.as_slice() {
                [] => None,
                [name] => Some(supported_policy(topology, name)?),
                _ => {
                    return Err(format!(
                        "{router}: `{}`: one export policy per session is supported",
                        n.name
                    ))
                }
            };
            let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
            sessions.push(CloudSession {
                name: n.name.clone(),
                customer,
                aws,
                remote_asn: n.remote_asn,
                md5: n.md5_password.clone(),
                hold_time: n.hold_time,
                bfd: n.bfd.map(|b| (ms(b.min_tx), ms(b.min_rx), b.multiplier)),
                export,
            });
        }
        Ok(CustomerRouter {
            name: r.name.clone(),
            asn: r.asn,
            router_id: r.router_id,
            networks,
            sessions,
        })
    }

    /// The session whose cloud end is `aws`.
    pub fn session_at(&self, aws: &str) -> Option<&CloudSession> {
        self.sessions.iter().find(|s| s.aws.to_string() == aws)
    }

    /// bgpd's configuration, and bfdd's profile when a session runs BFD
    /// (one profile for all: the first BFD session's timers).
    pub fn frr(&self) -> (FrrConfig, Option<FrrBfdProfile>) {
        let mut config = FrrConfig::new(self.asn, &self.router_id.to_string());
        config.networks = self.networks.clone();
        let mut maps = String::new();
        // Hold timers go in a second `router bgp` stanza: FrrConfig has no
        // field for them, and FRR merges stanzas of one instance.
        let mut timers = format!("router bgp {}\n", self.asn);
        let mut profile = None;
        for (i, s) in self.sessions.iter().enumerate() {
            let address = s.aws.to_string();
            let mut n = FrrNeighbor::new(&address, s.remote_asn);
            if let Some(pw) = &s.md5 {
                n = n.password(pw);
            }
            if let Some((tx, rx, mult)) = s.bfd {
                profile.get_or_insert_with(|| FrrBfdProfile::new("cloud", rx, tx, mult));
                n = n.bfd_profile("cloud");
            }
            if let Some(p) = &s.export {
                let name = format!("EXPORT-{i}");
                maps += &frr_route_map(&name, p, self.asn);
                n.route_map_out = Some(name);
            }
            config.neighbors.push(n);
            let keepalive = s.hold_time / 3;
            let _ = writeln!(
                timers,
                " neighbor {address} timers {keepalive} {}",
                s.hold_time
            );
        }
        config.extra = format!("{maps}{timers}!\n");
        (config, profile)
    }

    /// bird.conf for this router; `dir` holds its log.
    pub fn bird(&self, dir: &str) -> String {
        let mut body = String::from("protocol static static4 {\n  ipv4;\n");
        for p in &self.networks {
            let _ = writeln!(body, "  route {p} blackhole;");
        }
        body += "}\n\n";
        if let Some((tx, rx, mult)) = self.sessions.iter().find_map(|s| s.bfd) {
            body += &render_template(
                "bird/bfd.conf.tmpl",
                &[
                    ("min_rx_ms", &rx.to_string()),
                    ("min_tx_ms", &tx.to_string()),
                    ("multiplier", &mult.to_string()),
                ],
            );
            body.push('\n');
        }
        for (i, s) in self.sessions.iter().enumerate() {
            body += &bird_filter(&format!("export_{i}"), s.export.as_ref(), self.asn);
            let _ = write!(
                body,
                "protocol bgp {proto} {{\n  description \"{name}\";\n  local {local} as {asn};\n  \
                 neighbor {aws} as {remote};\n  hold time {hold};\n",
                proto = bird_protocol(i),
                name = s.name,
                local = s.customer,
                asn = self.asn,
                aws = s.aws,
                remote = s.remote_asn,
                hold = s.hold_time,
            );
            if let Some(pw) = &s.md5 {
                let _ = writeln!(body, "  password \"{pw}\";");
            }
            if s.bfd.is_some() {
                body += "  bfd on;\n";
            }
            let _ = write!(
                body,
                "  connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 4;\n  \
                 ipv4 {{ import all; export filter export_{i}; }};\n}}\n\n"
            );
        }
        render_template(
            "bird/bird.conf.tmpl",
            &[
                ("router_id", &self.router_id.to_string()),
                ("dir", dir),
                ("body", &body),
            ],
        )
    }

    /// What `interop/scenarios/up` starts the router from by hand, as
    /// (file name, text): the sessions' addresses, FRR's and BIRD's
    /// configurations. `@DIR@` stands for the run directory it picks.
    pub fn by_hand_files(&self) -> Vec<(&'static str, String)> {
        let mut addresses = format!(
            "# {} of the scenario: one line per cloud session,\n\
             # NAME AWS-ADDRESS (host end) CUSTOMER-ADDRESS (namespace end).\n",
            self.name
        );
        for s in &self.sessions {
            let _ = writeln!(addresses, "{} {}/30 {}/30", s.name, s.aws, s.customer);
        }
        let (frr, profile) = self.frr();
        let mut files = vec![
            ("addresses", addresses),
            ("bgpd.conf", frr.render("frr", BY_HAND_DIR)),
            ("bird.conf", self.bird(BY_HAND_DIR)),
        ];
        if let Some(p) = profile {
            let dir = [("hostname", "frr"), ("dir", BY_HAND_DIR)];
            files.push(("zebra.conf", render_template("frr/zebra.conf.tmpl", &dir)));
            let bfdd = render_template(
                "frr/bfdd.conf.tmpl",
                &[
                    ("hostname", "frr"),
                    ("dir", BY_HAND_DIR),
                    ("profile", &p.name),
                    ("min_rx_ms", &p.min_rx_ms.to_string()),
                    ("min_tx_ms", &p.min_tx_ms.to_string()),
                    ("multiplier", &p.multiplier.to_string()),
                ],
            );
            files.push(("bfdd.conf", bfdd));
        }
        files
    }

    /// Rows of FRR's `show ip bgp json`: valid paths, the best one active.
    pub fn frr_rows(&self, table: &Value) -> Result<Vec<NodeRoute>, String> {
        let routes = table["routes"]
            .as_object()
            .ok_or_else(|| format!("no `routes` object in {table}"))?;
        let mut rows = Vec::new();
        for (prefix, paths) in routes {
            let prefix = prefix
                .parse()
                .map_err(|e| format!("FRR prefix {prefix}: {e}"))?;
            for p in paths.as_array().into_iter().flatten() {
                if p["valid"] != Value::Bool(true) {
                    continue;
                }
                let path = p["path"].as_str().unwrap_or("");
                let via = match self.session_at(p["peerId"].as_str().unwrap_or("")) {
                    Some(s) => s.name.clone(),
                    None if path.is_empty() => "local".to_string(),
                    None => p["peerId"].as_str().unwrap_or("?").to_string(),
                };
                rows.push(NodeRoute {
                    prefix,
                    via,
                    egress: None,
                    origin: p["origin"].as_str().unwrap_or("").to_lowercase(),
                    as_path: asns(path)?,
                    med: p["metric"].as_u64().and_then(|m| u32::try_from(m).ok()),
                    communities: Vec::new(),
                    rule: None,
                    active: p["bestpath"] == Value::Bool(true),
                });
            }
        }
        Ok(rows)
    }

    /// Rows of BIRD's `show route all`, the primary route active.
    pub fn bird_rows(&self, routes: &[BirdRoute]) -> Result<Vec<NodeRoute>, String> {
        let mut rows = Vec::new();
        for r in routes {
            let via = match r.protocol.strip_prefix("cloud") {
                Some(i) => i
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| self.sessions.get(i))
                    .map(|s| s.name.clone())
                    .ok_or_else(|| format!("BIRD protocol {} is no session", r.protocol))?,
                None => "local".to_string(),
            };
            rows.push(NodeRoute {
                prefix: r
                    .prefix
                    .parse()
                    .map_err(|e| format!("BIRD prefix {}: {e}", r.prefix))?,
                via,
                egress: None,
                origin: r
                    .attrs
                    .get("origin")
                    .map_or("igp".to_string(), |o| o.to_lowercase()),
                as_path: asns(r.as_path())?,
                med: r.med(),
                communities: r
                    .attrs
                    .get("community")
                    .map(|c| bird_communities(c))
                    .unwrap_or_default(),
                rule: None,
                active: r.primary,
            });
        }
        Ok(rows)
    }
}

/// The run directory in [`CustomerRouter::by_hand_files`], replaced by
/// `interop/scenarios/up`.
pub const BY_HAND_DIR: &str = "@DIR@";

/// BIRD 2's name of session `i`: protocol names are identifiers, and the
/// session's own name goes in its description.
pub fn bird_protocol(i: usize) -> String {
    format!("cloud{i}")
}

/// `name`, if the generator can say everything it does.
fn supported_policy(topology: &Topology, name: &str) -> Result<Policy, String> {
    let p = topology
        .policy(name)
        .ok_or_else(|| format!("no policy `{name}`"))?;
    if !p.then.is_empty() {
        return Err(format!(
            "policy `{name}`: chained policies are not supported"
        ));
    }
    for t in &p.terms {
        if t.local_pref.is_some() || !t.remove_communities.is_empty() {
            return Err(format!(
                "policy `{name}`: local_pref and remove_communities are not supported"
            ));
        }
        if t.prefixes
            .iter()
            .any(|r| r.prefix.to_string().contains(':'))
        {
            return Err(format!("policy `{name}`: IPv6 prefixes are not supported"));
        }
    }
    Ok(p.clone())
}

/// A route-map with one entry per term, in order (the first match decides,
/// as a policy's first matching term does), then the default.
fn frr_route_map(name: &str, policy: &Policy, asn: u32) -> String {
    let mut out = String::new();
    for (k, t) in policy.terms.iter().enumerate() {
        let list = format!("{name}-T{k}");
        for r in &t.prefixes {
            let _ = writeln!(out, "ip prefix-list {list} permit {r}");
        }
        for c in &t.communities {
            let _ = writeln!(out, "bgp community-list standard {list} permit {c}");
        }
        let verdict = match t.action {
            Action::Accept => "permit",
            Action::Reject => "deny",
        };
        let _ = writeln!(out, "route-map {name} {verdict} {}", (k + 1) * 10);
        if !t.prefixes.is_empty() {
            let _ = writeln!(out, " match ip address prefix-list {list}");
        }
        if !t.communities.is_empty() {
            let _ = writeln!(out, " match community {list}");
        }
        if t.action == Action::Accept {
            out += &frr_sets(t, asn);
        }
    }
    if policy.default == Action::Accept {
        let _ = writeln!(out, "route-map {name} permit 65535");
    }
    out + "!\n"
}

fn frr_sets(t: &Term, asn: u32) -> String {
    let mut out = String::new();
    if t.prepend > 0 {
        let copies = vec![asn.to_string(); usize::from(t.prepend)].join(" ");
        let _ = writeln!(out, " set as-path prepend {copies}");
    }
    if let Some(med) = t.med {
        let _ = writeln!(out, " set metric {med}");
    }
    if !t.add_communities.is_empty() {
        let list: Vec<String> = t.add_communities.iter().map(Community::to_string).collect();
        let _ = writeln!(out, " set community {} additive", list.join(" "));
    }
    out
}

/// A BIRD filter doing what `policy` does; static routes leave as ORIGIN
/// IGP, as the emulated router's `networks` do.
fn bird_filter(name: &str, policy: Option<&Policy>, asn: u32) -> String {
    let mut out =
        format!("filter {name} {{\n  if source = RTS_STATIC then bgp_origin = ORIGIN_IGP;\n");
    let Some(policy) = policy else {
        return out + "  accept;\n}\n\n";
    };
    for t in &policy.terms {
        let mut conditions = Vec::new();
        if !t.prefixes.is_empty() {
            let set: Vec<String> = t
                .prefixes
                .iter()
                .map(|r| format!("{}{{{},{}}}", r.prefix, r.min_len, r.max_len))
                .collect();
            conditions.push(format!("net ~ [ {} ]", set.join(", ")));
        }
        if !t.communities.is_empty() {
            let set: Vec<String> = t.communities.iter().map(|c| bird_pair(*c)).collect();
            conditions.push(format!("bgp_community ~ [ {} ]", set.join(", ")));
        }
        let condition = if conditions.is_empty() {
            "true".to_string()
        } else {
            conditions
                .iter()
                .map(|c| format!("({c})"))
                .collect::<Vec<_>>()
                .join(" && ")
        };
        let _ = writeln!(out, "  if {condition} then {{");
        match t.action {
            Action::Reject => out += "    reject;\n",
            Action::Accept => {
                for _ in 0..t.prepend {
                    let _ = writeln!(out, "    bgp_path.prepend({asn});");
                }
                if let Some(med) = t.med {
                    let _ = writeln!(out, "    bgp_med = {med};");
                }
                for c in &t.add_communities {
                    let _ = writeln!(out, "    bgp_community.add({});", bird_pair(*c));
                }
                out += "    accept;\n";
            }
        }
        out += "  }\n";
    }
    out += match policy.default {
        Action::Accept => "  accept;\n}\n\n",
        Action::Reject => "  reject;\n}\n\n",
    };
    out
}

fn bird_pair(c: Community) -> String {
    format!("({},{})", c.0 >> 16, c.0 & 0xFFFF)
}

/// `(7224,7300) (65535,65281)` → ["7224:7300", "65535:65281"].
fn bird_communities(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|p| {
            let (a, b) = p.trim_matches(|c| c == '(' || c == ')').split_once(',')?;
            Some(format!("{}:{}", a.trim(), b.trim()))
        })
        .collect()
}

fn asns(path: &str) -> Result<Vec<u32>, String> {
    path.split_whitespace()
        .map(|a| a.parse().map_err(|e| format!("AS_PATH `{path}`: {e}")))
        .collect()
}
