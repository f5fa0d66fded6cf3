//! hybridlab itself in a namespace: a topology file written from a small
//! builder (the format of docs/topology.md), `hybridlab run`, and the CLI of
//! docs/control-api.md run inside the same namespace, where the control API
//! listens on its default 127.0.0.1:50179.

use super::{parse_json, Daemon, Lab, Netns};
use serde_json::Value;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_hybridlab");

/// An external neighbour (`[[router.neighbor]]` with `address`).
#[derive(Clone, Debug)]
pub struct HlNeighbor {
    pub name: String,
    pub address: String,
    pub remote_asn: u32,
    pub md5_password: Option<String>,
    pub families: Vec<String>,
    pub next_hop6: Option<String>,
    pub max_prefix: Option<u32>,
    pub export: Vec<String>,
    pub bfd: Option<HlBfd>,
}

/// `bfd` of a neighbour (docs/topology.md, "BFD on a neighbour").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HlBfd {
    /// `bfd = true`: the defaults, 300 ms × 3.
    Default,
    /// `bfd = { min_tx = MS, min_rx = MS, multiplier = N, passive = B }`.
    Timers {
        min_tx_ms: u32,
        min_rx_ms: u32,
        multiplier: u8,
        passive: bool,
    },
}

impl HlBfd {
    fn to_toml(&self) -> String {
        match self {
            HlBfd::Default => "true".to_string(),
            HlBfd::Timers {
                min_tx_ms,
                min_rx_ms,
                multiplier,
                passive,
            } => format!(
                "{{ min_tx = {min_tx_ms}, min_rx = {min_rx_ms}, multiplier = {multiplier}, \
                 passive = {passive} }}"
            ),
        }
    }
}

impl HlNeighbor {
    /// A neighbour carrying the one family of its address: IPv6 routes
    /// travel on IPv6 sessions (see interop/README.md).
    pub fn new(name: &str, address: &str, remote_asn: u32) -> Self {
        let family = if address.contains(':') {
            "ipv6-unicast"
        } else {
            "ipv4-unicast"
        };
        HlNeighbor {
            name: name.to_string(),
            address: address.to_string(),
            remote_asn,
            md5_password: None,
            families: vec![family.to_string()],
            next_hop6: None,
            max_prefix: None,
            export: Vec::new(),
            bfd: None,
        }
    }

    pub fn md5(mut self, pw: &str) -> Self {
        self.md5_password = Some(pw.to_string());
        self
    }
}

#[derive(Clone, Debug)]
pub struct HlRouter {
    pub name: String,
    pub asn: u32,
    pub router_id: String,
    pub networks: Vec<String>,
    pub listen: Vec<String>,
    pub neighbors: Vec<HlNeighbor>,
}

/// A `[[policy]]` of single-prefix-list terms.
#[derive(Clone, Debug)]
pub struct HlPolicy {
    pub name: String,
    pub terms: Vec<HlTerm>,
}

#[derive(Clone, Debug, Default)]
pub struct HlTerm {
    pub prefixes: Vec<String>,
    pub prepend: Option<u32>,
    pub med: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct Topology {
    pub name: String,
    pub routers: Vec<HlRouter>,
    pub policies: Vec<HlPolicy>,
}

fn quoted(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", q.join(", "))
}

impl Topology {
    pub fn to_toml(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "[lab]\nname = {:?}\n", self.name);
        for r in &self.routers {
            let _ = writeln!(
                s,
                "[[router]]\nname = {:?}\nasn = {}\nrouter_id = {:?}\nnetworks = {}\nlisten = {}\n",
                r.name,
                r.asn,
                r.router_id,
                quoted(&r.networks),
                quoted(&r.listen)
            );
            for n in &r.neighbors {
                let _ = writeln!(
                    s,
                    "  [[router.neighbor]]\n  name = {:?}\n  address = {:?}\n  remote_asn = {}\n  \
                     families = {}\n  connect_retry = 1\n  export = {}",
                    n.name,
                    n.address,
                    n.remote_asn,
                    quoted(&n.families),
                    quoted(&n.export)
                );
                if let Some(pw) = &n.md5_password {
                    let _ = writeln!(s, "  md5_password = {pw:?}");
                }
                if let Some(nh) = &n.next_hop6 {
                    let _ = writeln!(s, "  next_hop6 = {nh:?}");
                }
                if let Some(max) = n.max_prefix {
                    let _ = writeln!(s, "  max_prefix = {max}");
                }
                if let Some(bfd) = &n.bfd {
                    let _ = writeln!(s, "  bfd = {}", bfd.to_toml());
                }
                s.push('\n');
            }
        }
        for p in &self.policies {
            let _ = writeln!(s, "[[policy]]\nname = {:?}", p.name);
            for t in &p.terms {
                let _ = writeln!(s, "  [[policy.term]]\n  prefixes = {}", quoted(&t.prefixes));
                if let Some(n) = t.prepend {
                    let _ = writeln!(s, "  prepend = {n}");
                }
                if let Some(m) = t.med {
                    let _ = writeln!(s, "  med = {m}");
                }
            }
            s.push('\n');
        }
        s
    }
}

/// A running `hybridlab run`.
pub struct Hybridlab {
    pub ns: Netns,
    pub dir: PathBuf,
    pub daemon: Daemon,
}

impl Hybridlab {
    pub fn start(lab: &Lab, ns: &Netns, topology: &Topology) -> Hybridlab {
        let dir = lab.subdir(&format!("hybridlab-{}", ns.name));
        let file = dir.join("topology.toml");
        fs::write(&file, topology.to_toml()).unwrap_or_else(|e| panic!("write topology: {e}"));
        let mut cmd = ns.command(BIN);
        cmd.arg("run")
            .arg(&file)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "debug".to_string()),
            )
            .env("NO_COLOR", "1");
        let daemon = Daemon::spawn(lab, "hybridlab", cmd, &dir.join("hybridlab.log"));
        let mut hl = Hybridlab {
            ns: ns.clone(),
            dir,
            daemon,
        };
        lab.wait("hybridlab control API", Duration::from_secs(20), || {
            if let Err(e) = hl.daemon.check_running() {
                lab.fail(&e);
            }
            hl.sessions().map(|_| ())
        });
        hl
    }

    /// Runs the CLI inside the namespace; `Err` with its output on failure.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        let out = self
            .ns
            .command(BIN)
            .args(args)
            .output()
            .map_err(|e| format!("hybridlab {args:?}: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!(
                "hybridlab {args:?} failed ({}): {stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(stdout)
    }

    /// `show sessions --json`: the `sessions` array.
    pub fn sessions(&self) -> Result<Vec<Value>, String> {
        let v = parse_json(
            "show sessions --json",
            &self.cli(&["show", "sessions", "--json"])?,
        )?;
        v["sessions"]
            .as_array()
            .cloned()
            .ok_or_else(|| format!("no `sessions` array in {v}"))
    }

    pub fn session(&self, neighbor: &str) -> Result<Value, String> {
        self.sessions()?
            .into_iter()
            .find(|s| s["neighbor"] == neighbor)
            .ok_or_else(|| format!("no session with neighbor {neighbor}"))
    }

    pub fn wait_established(&self, lab: &Lab, neighbor: &str) {
        lab.wait(
            &format!("hybridlab session {neighbor} Established"),
            Duration::from_secs(30),
            || {
                let s = self.session(neighbor)?;
                if s["state"] == "Established" {
                    Ok(())
                } else {
                    Err(s.to_string())
                }
            },
        );
    }

    /// Accepted prefixes of a session in one family ("ipv4-unicast").
    pub fn accepted(&self, neighbor: &str, family: &str) -> Result<u64, String> {
        let s = self.session(neighbor)?;
        Ok(s["prefixes"][family]["accepted"].as_u64().unwrap_or(0))
    }

    /// `show routes ROUTER --json`: the `routes` array.
    pub fn routes(&self, router: &str) -> Result<Vec<Value>, String> {
        let cmd = format!("show routes {router} --json");
        let v = parse_json(&cmd, &self.cli(&["show", "routes", router, "--json"])?)?;
        v["routes"]
            .as_array()
            .cloned()
            .ok_or_else(|| format!("no `routes` array in {v}"))
    }

    /// Paths of `prefix` in the router's table.
    pub fn paths(&self, router: &str, prefix: &str) -> Result<Vec<Value>, String> {
        Ok(self
            .routes(router)?
            .into_iter()
            .filter(|r| r["prefix"] == prefix)
            .collect())
    }

    pub fn announce(&self, router: &str, prefix: &str) {
        self.cli(&["announce", router, prefix])
            .unwrap_or_else(|e| panic!("announce: {e}"));
    }

    pub fn withdraw(&self, router: &str, prefix: &str) {
        self.cli(&["withdraw", router, prefix])
            .unwrap_or_else(|e| panic!("withdraw: {e}"));
    }

    pub fn clear(&self, router: &str, neighbor: &str) {
        self.cli(&["clear", router, neighbor])
            .unwrap_or_else(|e| panic!("clear: {e}"));
    }
}

/// hybridlab's AS and router ID in every peering test.
pub const CLOUD_ASN: u32 = 64512;
pub const CLOUD_ID: &str = "10.0.0.1";
pub const CLOUD: &str = "cloud";

/// The peering tests' topology, as in docs/topology.md's example: router
/// `cloud` on side A of `link`, one IPv4 session `{peer}4` and one IPv6
/// session `{peer}6` to side B, both with TCP MD5. It originates
/// `10.10.0.0/16` and `2001:db8:10::/48`, which the `backup-path` export
/// policy sends with 3 prepends and MED 200, and `10.11.0.0/16`, sent as is.
pub fn peering_topology(link: &super::Link, peer: &str, peer_asn: u32, password: &str) -> Topology {
    let mut v4 = HlNeighbor::new(&format!("{peer}4"), &link.b4, peer_asn).md5(password);
    v4.export = vec!["backup-path".to_string()];
    let mut v6 = HlNeighbor::new(&format!("{peer}6"), &link.b6, peer_asn).md5(password);
    v6.export = vec!["backup-path".to_string()];
    v6.next_hop6 = Some(link.a6.clone());
    Topology {
        name: format!("{peer}-peering"),
        routers: vec![HlRouter {
            name: CLOUD.to_string(),
            asn: CLOUD_ASN,
            router_id: CLOUD_ID.to_string(),
            networks: vec![
                "10.10.0.0/16".into(),
                "10.11.0.0/16".into(),
                "2001:db8:10::/48".into(),
            ],
            listen: vec![format!("{}:179", link.a4), format!("[{}]:179", link.a6)],
            neighbors: vec![v4, v6],
        }],
        policies: vec![HlPolicy {
            name: "backup-path".to_string(),
            terms: vec![HlTerm {
                prefixes: vec!["10.10.0.0/16".into(), "2001:db8:10::/48".into()],
                prepend: Some(3),
                med: Some(200),
            }],
        }],
    }
}
