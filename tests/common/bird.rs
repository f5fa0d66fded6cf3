//! BIRD 2 in a namespace, configured from `interop/bird/bird.conf.tmpl`,
//! queried with `birdc show route all` and `show protocols all`, whose text
//! output is parsed here.

use super::{render_template, Daemon, Lab, Netns};
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub const BIRD: &str = "/usr/sbin/bird";
pub const BIRDC: &str = "/usr/sbin/birdc";

/// One `protocol bgp`. The neighbour's address family decides the channel:
/// one session per family.
#[derive(Clone, Debug)]
pub struct BirdPeer {
    pub name: String,
    pub local_address: String,
    pub neighbor_address: String,
    pub remote_asn: u32,
    pub password: Option<String>,
    /// `receive limit N action disable`: Cease / Maximum Number of Prefixes
    /// Reached when the peer sends more.
    pub receive_limit: Option<u32>,
    /// `bfd on;`: BGP follows the BFD session of [`BirdConfig::bfd`].
    pub bfd: bool,
}

impl BirdPeer {
    pub fn new(name: &str, local_address: &str, neighbor_address: &str, remote_asn: u32) -> Self {
        BirdPeer {
            name: name.to_string(),
            local_address: local_address.to_string(),
            neighbor_address: neighbor_address.to_string(),
            remote_asn,
            password: None,
            receive_limit: None,
            bfd: false,
        }
    }

    pub fn password(mut self, pw: &str) -> Self {
        self.password = Some(pw.to_string());
        self
    }

    fn is_v6(&self) -> bool {
        self.neighbor_address.contains(':')
    }
}

#[derive(Clone, Debug)]
pub struct BirdConfig {
    pub router_id: String,
    pub asn: u32,
    pub peers: Vec<BirdPeer>,
    /// Originated prefixes (static blackhole routes, exported by BGP).
    pub networks: Vec<String>,
    /// More originated prefixes in a static protocol of their own, `extra`,
    /// which `birdc disable extra` withdraws at once.
    pub extra_networks: Vec<String>,
    /// Filter statements applied to originated routes on export, e.g.
    /// `bgp_med = 100; bgp_path.prepend(65002);`.
    pub export_actions: String,
    /// A `protocol bfd` for every interface (interop/bird/bfd.conf.tmpl).
    pub bfd: Option<BirdBfd>,
}

/// Timers of BIRD's `protocol bfd`.
#[derive(Clone, Copy, Debug)]
pub struct BirdBfd {
    pub min_rx_ms: u32,
    pub min_tx_ms: u32,
    pub multiplier: u8,
}

impl BirdConfig {
    pub fn new(asn: u32, router_id: &str) -> Self {
        BirdConfig {
            router_id: router_id.to_string(),
            asn,
            peers: Vec::new(),
            networks: Vec::new(),
            extra_networks: Vec::new(),
            export_actions: String::new(),
            bfd: None,
        }
    }

    pub fn render(&self, dir: &str) -> String {
        let mut body = String::new();
        for (proto, prefixes) in [("static", &self.networks), ("extra", &self.extra_networks)] {
            for (afi, v6) in [("4", false), ("6", true)] {
                let routes: Vec<&String> =
                    prefixes.iter().filter(|p| p.contains(':') == v6).collect();
                body += &format!(
                    "protocol static {proto}{afi} {{\n  ipv{afi};\n{}}}\n\n",
                    routes
                        .iter()
                        .map(|p| format!("  route {p} blackhole;\n"))
                        .collect::<String>()
                );
            }
        }
        // Only originated routes go out: what BIRD learnt from one peer
        // never leaks to another and confuses a test.
        body += &format!(
            "filter export_originated {{\n  if source != RTS_STATIC then reject;\n  \
             bgp_origin = ORIGIN_IGP;\n  {}\n  accept;\n}}\n\n",
            self.export_actions
        );
        if let Some(bfd) = &self.bfd {
            body += &render_template(
                "bird/bfd.conf.tmpl",
                &[
                    ("min_rx_ms", &bfd.min_rx_ms.to_string()),
                    ("min_tx_ms", &bfd.min_tx_ms.to_string()),
                    ("multiplier", &bfd.multiplier.to_string()),
                ],
            );
            body.push('\n');
        }
        for p in &self.peers {
            let afi = if p.is_v6() { "ipv6" } else { "ipv4" };
            let password = p
                .password
                .as_ref()
                .map(|pw| format!("  password \"{pw}\";\n"))
                .unwrap_or_default();
            let limit = p
                .receive_limit
                .map(|n| format!(" receive limit {n} action disable;"))
                .unwrap_or_default();
            let bfd = if p.bfd { "  bfd on;\n" } else { "" };
            body += &format!(
                "protocol bgp {name} {{\n  local {local} as {asn};\n  neighbor {nbr} as {remote};\n{password}{bfd}\
                 \x20 connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 4;\n\
                 \x20 {afi} {{ import all; export filter export_originated;{limit} }};\n}}\n\n",
                name = p.name,
                local = p.local_address,
                asn = self.asn,
                nbr = p.neighbor_address,
                remote = p.remote_asn,
            );
        }
        render_template(
            "bird/bird.conf.tmpl",
            &[
                ("router_id", &self.router_id),
                ("dir", dir),
                ("body", &body),
            ],
        )
    }
}

/// A running bird.
pub struct Bird {
    pub ns: Netns,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub daemon: Daemon,
}

impl Bird {
    pub fn start(lab: &Lab, ns: &Netns, config: &BirdConfig) -> Bird {
        Self::start_rendered(lab, ns, |dir| config.render(dir))
    }

    /// Starts BIRD with the text `render` makes from its run directory.
    pub fn start_rendered(lab: &Lab, ns: &Netns, render: impl FnOnce(&str) -> String) -> Bird {
        let dir = lab.subdir(&format!("bird-{}", ns.name));
        let d = dir.display().to_string();
        let conf = dir.join("bird.conf");
        fs::write(&conf, render(&d)).unwrap_or_else(|e| panic!("write bird.conf: {e}"));
        lab.track_log("bird.log", &dir.join("bird.log"));
        let socket = dir.join("bird.ctl");
        let mut cmd = ns.command(BIRD);
        cmd.arg("-f")
            .arg("-c")
            .arg(&conf)
            .arg("-s")
            .arg(&socket)
            .arg("-P")
            .arg(dir.join("bird.pid"));
        let daemon = Daemon::spawn(lab, "bird", cmd, &dir.join("bird.stdout"));
        let bird = Bird {
            ns: ns.clone(),
            dir,
            socket,
            daemon,
        };
        lab.wait("bird to answer birdc", Duration::from_secs(20), || {
            bird.birdc(&["show", "status"]).map(|_| ())
        });
        bird
    }

    /// Runs one birdc command; `Err` with the output on failure.
    pub fn birdc(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(BIRDC)
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .output()
            .map_err(|e| format!("birdc: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!(
                "birdc {args:?} failed ({}): {text}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(text)
    }

    /// Rewrites the configuration and reloads it (`birdc configure`).
    pub fn reconfigure(&self, config: &BirdConfig) {
        let conf = self.dir.join("bird.conf");
        fs::write(&conf, config.render(&self.dir.display().to_string()))
            .unwrap_or_else(|e| panic!("write bird.conf: {e}"));
        let out = self
            .birdc(&["configure"])
            .unwrap_or_else(|e| panic!("birdc configure: {e}"));
        assert!(out.contains("Reconfigured"), "birdc configure: {out}");
    }

    pub fn protocol(&self, name: &str) -> Result<BirdProtocol, String> {
        let text = self.birdc(&["show", "protocols", "all", name])?;
        BirdProtocol::parse(&text)
            .ok_or_else(|| format!("cannot parse `show protocols all {name}`: {text}"))
    }

    pub fn wait_established(&self, lab: &Lab, name: &str) {
        lab.wait(
            &format!("BIRD protocol {name} Established"),
            Duration::from_secs(30),
            || {
                let p = self.protocol(name)?;
                if p.bgp_state.as_deref() == Some("Established") {
                    Ok(())
                } else {
                    Err(format!("{p:?}"))
                }
            },
        );
    }

    /// Every route of every table (`show route all`).
    pub fn routes(&self) -> Result<Vec<BirdRoute>, String> {
        Ok(BirdRoute::parse_all(
            &self.birdc(&["show", "route", "all"])?,
        ))
    }

    /// Routes for `prefix` (all protocols).
    pub fn routes_for(&self, prefix: &str) -> Result<Vec<BirdRoute>, String> {
        Ok(self
            .routes()?
            .into_iter()
            .filter(|r| r.prefix == prefix)
            .collect())
    }

    /// Routes in all tables, from `show route count`.
    pub fn route_count(&self) -> Result<u64, String> {
        let text = self.birdc(&["show", "route", "count"])?;
        parse_route_count(&text).ok_or_else(|| format!("cannot parse `show route count`: {text}"))
    }
}

/// What `show protocols all NAME` says about one BGP protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BirdProtocol {
    pub name: String,
    /// Protocol state column: `up`, `start`, `down`.
    pub state: String,
    /// The Info column: `Established`, `Active`, `Passive`, ...
    pub info: String,
    /// `BGP state:` line.
    pub bgp_state: Option<String>,
    /// `Last error:` line, e.g. `Received: Maximum number of prefixes reached`.
    pub last_error: Option<String>,
}

impl BirdProtocol {
    /// ```text
    /// Name       Proto      Table      State  Since         Info
    /// hl4        BGP        ---        up     12:00:01      Established
    ///   BGP state:          Established
    ///     Last error:       Received: Maximum number of prefixes reached
    /// ```
    pub fn parse(text: &str) -> Option<BirdProtocol> {
        let mut lines = text.lines().skip_while(|l| !l.starts_with("Name"));
        lines.next()?;
        let row = lines.next()?;
        let cols: Vec<&str> = row.split_whitespace().collect();
        let mut p = BirdProtocol {
            name: cols.first()?.to_string(),
            state: cols.get(3)?.to_string(),
            info: cols.get(5..).map(|c| c.join(" ")).unwrap_or_default(),
            ..BirdProtocol::default()
        };
        for l in lines {
            let l = l.trim();
            if let Some(v) = l.strip_prefix("BGP state:") {
                p.bgp_state = Some(v.trim().to_string());
            } else if let Some(v) = l.strip_prefix("Last error:") {
                p.last_error = Some(v.trim().to_string());
            }
        }
        Some(p)
    }
}

/// One route of `show route all`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BirdRoute {
    pub prefix: String,
    /// The protocol that brought it (`hl4`, `static4`).
    pub protocol: String,
    /// Marked `*`: the table's best route for the prefix.
    pub primary: bool,
    /// `BGP.as_path`, `BGP.med`, `BGP.next_hop`, ... without the `BGP.`.
    pub attrs: BTreeMap<String, String>,
}

impl BirdRoute {
    /// ```text
    /// Table master4:
    /// 10.10.0.0/16         unicast [hl4 12:00:01] * (100) [AS64512i]
    ///         via 192.0.2.1 on to-hl
    ///         Type: BGP univ
    ///         BGP.origin: IGP
    ///         BGP.as_path: 64512 64512 64512 64512
    ///         BGP.med: 200
    ///                      unicast [other 12:00:02] (100) [AS65000i]
    /// ```
    pub fn parse_all(text: &str) -> Vec<BirdRoute> {
        let mut routes = Vec::new();
        let mut prefix = String::new();
        let mut current: Option<BirdRoute> = None;
        for line in text.lines() {
            if line.starts_with("Table ") || line.starts_with("BIRD ") {
                continue;
            }
            let trimmed = line.trim_start();
            let indented = trimmed.len() != line.len();
            let first = trimmed.split_whitespace().next().unwrap_or("");
            let starts_route = !indented && first.contains('/');
            let continues_prefix = indented && trimmed.contains(" [") && is_route_kind(first);
            if starts_route || continues_prefix {
                routes.extend(current.take());
                let mut words = trimmed.split_whitespace();
                if starts_route {
                    prefix = words.next().unwrap_or("").to_string();
                }
                let rest: Vec<&str> = words.collect();
                let protocol = rest
                    .iter()
                    .find_map(|w| w.strip_prefix('['))
                    .unwrap_or("")
                    .to_string();
                current = Some(BirdRoute {
                    prefix: prefix.clone(),
                    protocol,
                    primary: rest.contains(&"*"),
                    attrs: BTreeMap::new(),
                });
            } else if let Some(attr) = trimmed.strip_prefix("BGP.") {
                if let (Some(r), Some((k, v))) = (current.as_mut(), attr.split_once(':')) {
                    r.attrs.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
        }
        routes.extend(current);
        routes
    }

    pub fn as_path(&self) -> &str {
        self.attrs.get("as_path").map(String::as_str).unwrap_or("")
    }

    pub fn med(&self) -> Option<u32> {
        self.attrs.get("med").and_then(|m| m.parse().ok())
    }
}

fn is_route_kind(word: &str) -> bool {
    matches!(word, "unicast" | "blackhole" | "unreachable" | "prohibit")
}

/// `N of M routes for K networks in table master4` lines, summed; the
/// `Total:` line is not counted twice.
pub fn parse_route_count(text: &str) -> Option<u64> {
    let mut total = None;
    for l in text.lines() {
        let words: Vec<&str> = l.split_whitespace().collect();
        if words.get(1) == Some(&"of") && words.get(3) == Some(&"routes") {
            let n: u64 = words.first()?.parse().ok()?;
            total = Some(total.unwrap_or(0) + n);
        }
    }
    total
}

impl Bird {
    /// `show bfd sessions`: every session of every `protocol bfd`.
    pub fn bfd_sessions(&self) -> Result<Vec<BirdBfdSession>, String> {
        Ok(BirdBfdSession::parse_all(
            &self.birdc(&["show", "bfd", "sessions"])?,
        ))
    }

    /// The session to `address`, if BIRD has one.
    pub fn bfd_session(&self, address: &str) -> Result<Option<BirdBfdSession>, String> {
        Ok(self
            .bfd_sessions()?
            .into_iter()
            .find(|s| s.address == address))
    }

    /// BIRD's log; `debug protocols { events }` records BFD state changes.
    pub fn log(&self) -> PathBuf {
        self.dir.join("bird.log")
    }
}

/// One row of `show bfd sessions`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BirdBfdSession {
    pub address: String,
    pub interface: String,
    /// `Up`, `Down`, `Init`, `AdminDown`.
    pub state: String,
    /// BIRD's transmit interval: the larger of its own desired minimum and
    /// the peer's required minimum (RFC 5880 §6.8.7). 0 before any packet.
    pub interval_ms: u32,
    /// BIRD's detection time: the larger of its required minimum and the
    /// peer's desired minimum, times the peer's multiplier (§6.8.4).
    pub timeout_ms: u32,
}

impl BirdBfdSession {
    /// ```text
    /// bfd1:
    /// IP address                Interface  State      Since         Interval  Timeout
    /// 192.0.2.1                 to-frr     Up         09:23:51        0.300    0.900
    /// ```
    pub fn parse_all(text: &str) -> Vec<BirdBfdSession> {
        text.lines()
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                let [address, interface, state, _since, interval, timeout] = cols.as_slice() else {
                    return None;
                };
                Some(BirdBfdSession {
                    address: address.to_string(),
                    interface: interface.to_string(),
                    state: state.to_string(),
                    interval_ms: parse_seconds_as_ms(interval)?,
                    timeout_ms: parse_seconds_as_ms(timeout)?,
                })
            })
            .collect()
    }
}

/// `0.300` → 300: BIRD prints seconds with three decimals.
fn parse_seconds_as_ms(text: &str) -> Option<u32> {
    let (secs, millis) = text.split_once('.')?;
    if millis.len() != 3 {
        return None;
    }
    secs.parse::<u32>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(millis.parse().ok()?)
}

impl Bird {
    /// Waits for protocol `name` to record a received Cease / Maximum Number
    /// of Prefixes Reached (RFC 4486 §4), in BIRD 2's words.
    pub fn wait_max_prefix_cease(&self, lab: &Lab, name: &str) -> BirdProtocol {
        let p = lab.wait("BIRD to record the Cease", Duration::from_secs(30), || {
            let p = self.protocol(name)?;
            match &p.last_error {
                Some(e) if e.starts_with("Received:") => Ok(p),
                _ => Err(format!("{p:?}")),
            }
        });
        assert_eq!(
            p.last_error.as_deref(),
            Some("Received: Maximum number of prefixes reached"),
            "{p:?}"
        );
        p
    }
}
