//! FRR 8.4 bgpd in a namespace: alone, with `-n` (no zebra, no FIB), as the
//! `frr` user with a private run directory, configured from
//! `interop/frr/bgpd.conf.tmpl` and queried with `vtysh ... json`.

use super::{parse_json, render_template, run_ok, Daemon, Lab, Netns};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const BGPD: &str = "/usr/lib/frr/bgpd";
pub const VTYSH: &str = "/usr/bin/vtysh";

/// One `neighbor` of the FRR router. Its address family decides which
/// address family it is activated in: one session per family.
#[derive(Clone, Debug)]
pub struct FrrNeighbor {
    pub address: String,
    pub remote_asn: u32,
    pub password: Option<String>,
    /// Outbound route-map, defined in [`FrrConfig::extra`].
    pub route_map_out: Option<String>,
    pub max_prefix: Option<u32>,
    /// `neighbor X bfd profile NAME`: bgpd asks bfdd (through zebra) for a
    /// session with that profile. Needs [`Frr::start_with_bfd`].
    pub bfd_profile: Option<String>,
}

impl FrrNeighbor {
    pub fn new(address: &str, remote_asn: u32) -> Self {
        FrrNeighbor {
            address: address.to_string(),
            remote_asn,
            password: None,
            route_map_out: None,
            max_prefix: None,
            bfd_profile: None,
        }
    }

    pub fn bfd_profile(mut self, profile: &str) -> Self {
        self.bfd_profile = Some(profile.to_string());
        self
    }

    pub fn password(mut self, pw: &str) -> Self {
        self.password = Some(pw.to_string());
        self
    }

    fn is_v6(&self) -> bool {
        self.address.contains(':')
    }
}

#[derive(Clone, Debug)]
pub struct FrrConfig {
    pub asn: u32,
    pub router_id: String,
    pub neighbors: Vec<FrrNeighbor>,
    /// `network` statements, IPv4 or IPv6.
    pub networks: Vec<String>,
    /// Verbatim text after `router bgp`: route-maps and the like.
    pub extra: String,
}

impl FrrConfig {
    pub fn new(asn: u32, router_id: &str) -> Self {
        FrrConfig {
            asn,
            router_id: router_id.to_string(),
            neighbors: Vec::new(),
            networks: Vec::new(),
            extra: String::new(),
        }
    }

    pub fn render(&self, hostname: &str, dir: &str) -> String {
        let mut neighbors = String::new();
        let mut af4 = String::new();
        let mut af6 = String::new();
        for n in &self.neighbors {
            let a = &n.address;
            neighbors += &format!(" neighbor {a} remote-as {}\n", n.remote_asn);
            if let Some(pw) = &n.password {
                neighbors += &format!(" neighbor {a} password {pw}\n");
            }
            // Short timers keep the tests fast: reconnect after 1 s, send
            // updates at once.
            neighbors += &format!(" neighbor {a} timers connect 1\n");
            neighbors += &format!(" neighbor {a} advertisement-interval 0\n");
            if let Some(profile) = &n.bfd_profile {
                neighbors += &format!(" neighbor {a} bfd profile {profile}\n");
            }
            let af = if n.is_v6() { &mut af6 } else { &mut af4 };
            *af += &format!("  neighbor {a} activate\n");
            if let Some(rm) = &n.route_map_out {
                *af += &format!("  neighbor {a} route-map {rm} out\n");
            }
            if let Some(max) = n.max_prefix {
                *af += &format!("  neighbor {a} maximum-prefix {max}\n");
            }
        }
        for p in &self.networks {
            let af = if p.contains(':') { &mut af6 } else { &mut af4 };
            *af += &format!("  network {p}\n");
        }
        render_template(
            "frr/bgpd.conf.tmpl",
            &[
                ("hostname", hostname),
                ("dir", dir),
                ("asn", &self.asn.to_string()),
                ("router_id", &self.router_id),
                ("neighbors", neighbors.trim_end()),
                ("ipv4", af4.trim_end()),
                ("ipv6", af6.trim_end()),
                ("extra", &self.extra),
            ],
        )
    }
}

/// A running bgpd, with zebra and bfdd beside it when started by
/// [`Frr::start_with_bfd`].
pub struct Frr {
    pub ns: Netns,
    pub dir: PathBuf,
    pub asn: u32,
    pub daemon: Daemon,
    /// zebra and bfdd; dropped after bgpd, so bgpd never sees them vanish.
    pub helpers: Vec<Daemon>,
}

/// `bfd` / `profile NAME` of bfdd.conf (interop/frr/bfdd.conf.tmpl).
#[derive(Clone, Debug)]
pub struct FrrBfdProfile {
    pub name: String,
    pub min_rx_ms: u32,
    pub min_tx_ms: u32,
    pub multiplier: u8,
}

impl FrrBfdProfile {
    pub fn new(name: &str, min_rx_ms: u32, min_tx_ms: u32, multiplier: u8) -> Self {
        FrrBfdProfile {
            name: name.to_string(),
            min_rx_ms,
            min_tx_ms,
            multiplier,
        }
    }
}

pub const ZEBRA: &str = "/usr/lib/frr/zebra";
pub const BFDD: &str = "/usr/lib/frr/bfdd";

impl Frr {
    pub fn start(lab: &Lab, ns: &Netns, config: &FrrConfig) -> Frr {
        Self::start_bgpd(lab, ns, config, Vec::new())
    }

    /// zebra, bfdd and bgpd sharing one zserv socket: bgpd registers its
    /// BFD sessions with zebra, which hands them to bfdd. bgpd keeps `-n`
    /// (no FIB), zebra only learns the namespace's interfaces.
    pub fn start_with_bfd(
        lab: &Lab,
        ns: &Netns,
        config: &FrrConfig,
        profile: &FrrBfdProfile,
    ) -> Frr {
        let dir = lab.subdir(&format!("frr-{}", ns.name));
        let d = dir.display().to_string();
        let zebra_conf =
            render_template("frr/zebra.conf.tmpl", &[("hostname", "frr"), ("dir", &d)]);
        let bfdd_conf = render_template(
            "frr/bfdd.conf.tmpl",
            &[
                ("hostname", "frr"),
                ("dir", &d),
                ("profile", &profile.name),
                ("min_rx_ms", &profile.min_rx_ms.to_string()),
                ("min_tx_ms", &profile.min_tx_ms.to_string()),
                ("multiplier", &profile.multiplier.to_string()),
            ],
        );
        fs::write(dir.join("zebra.conf"), zebra_conf)
            .unwrap_or_else(|e| panic!("write zebra.conf: {e}"));
        fs::write(dir.join("bfdd.conf"), bfdd_conf)
            .unwrap_or_else(|e| panic!("write bfdd.conf: {e}"));
        run_ok(Command::new("chown").args(["-R", "frr:frr", &d]));
        let mut helpers = Vec::new();
        for name in ["zebra", "bfdd"] {
            lab.track_log(&format!("{name}.log"), &dir.join(format!("{name}.log")));
            let mut cmd = ns.command(&format!("/usr/lib/frr/{name}"));
            cmd.args(["-P", "0", "--vty_socket", &d])
                .args(["-z", &format!("{d}/zserv.api")])
                .args(["-i", &format!("{d}/{name}.pid")])
                .args(["-f", &format!("{d}/{name}.conf")]);
            if name == "bfdd" {
                cmd.args(["--bfdctl", &format!("{d}/bfdd.sock")]);
            }
            helpers.push(Daemon::spawn(
                lab,
                name,
                cmd,
                &dir.join(format!("{name}.stdout")),
            ));
            // bgpd and bfdd give up on a zserv socket that is not there yet.
            lab.wait(
                &format!("{name} to answer vtysh"),
                std::time::Duration::from_secs(20),
                || vtysh_daemon(&dir, name, &["show version"]).map(|_| ()),
            );
        }
        Self::start_bgpd(lab, ns, config, helpers)
    }

    fn start_bgpd(lab: &Lab, ns: &Netns, config: &FrrConfig, helpers: Vec<Daemon>) -> Frr {
        let dir = lab.subdir(&format!("frr-{}", ns.name));
        let d = dir.display().to_string();
        fs::write(dir.join("bgpd.conf"), config.render("frr", &d))
            .unwrap_or_else(|e| panic!("write bgpd.conf: {e}"));
        // bgpd drops to the frr user and must write its pid, socket and log here.
        run_ok(Command::new("chown").args(["-R", "frr:frr", &d]));
        lab.track_log("bgpd.log", &dir.join("bgpd.log"));
        let mut cmd = ns.command(BGPD);
        cmd.args(["-P", "0", "-n", "-p", "179", "--vty_socket", &d])
            .args(["-z", &format!("{d}/zserv.api")])
            .args(["-i", &format!("{d}/bgpd.pid")])
            .args(["-f", &format!("{d}/bgpd.conf")]);
        let daemon = Daemon::spawn(lab, "bgpd", cmd, &dir.join("bgpd.stdout"));
        let frr = Frr {
            ns: ns.clone(),
            dir,
            asn: config.asn,
            daemon,
            helpers,
        };
        lab.wait(
            "bgpd to answer vtysh",
            std::time::Duration::from_secs(20),
            || frr.vtysh(&["show bgp summary json"]).map(|_| ()),
        );
        frr
    }

    /// Runs vtysh commands against this bgpd; `Err` with the output when
    /// vtysh fails.
    pub fn vtysh(&self, commands: &[&str]) -> Result<String, String> {
        vtysh_daemon(&self.dir, "bgpd", commands)
    }

    pub fn json(&self, command: &str) -> Result<Value, String> {
        parse_json(command, &self.vtysh(&[command])?)
    }

    /// Changes the running configuration: `lines` are entered under
    /// `router bgp ASN`.
    pub fn configure(&self, lines: &[&str]) {
        let router = format!("router bgp {}", self.asn);
        let mut all = vec!["configure terminal", router.as_str()];
        all.extend_from_slice(lines);
        if let Err(e) = self.vtysh(&all) {
            panic!("configure FRR: {e}");
        }
    }

    /// `show bgp neighbors ADDR json`, the object for that neighbour.
    pub fn neighbor(&self, address: &str) -> Result<Value, String> {
        let v = self.json(&format!("show bgp neighbors {address} json"))?;
        v.get(address)
            .cloned()
            .ok_or_else(|| format!("no neighbor {address} in {v}"))
    }

    /// The neighbour's `bgpState` ("Established", "Active", "Idle", ...).
    pub fn neighbor_state(&self, address: &str) -> Result<String, String> {
        let n = self.neighbor(address)?;
        n["bgpState"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no bgpState in {n}"))
    }

    pub fn wait_established(&self, lab: &Lab, address: &str) {
        lab.wait(
            &format!("FRR session to {address} Established"),
            std::time::Duration::from_secs(30),
            || match self.neighbor_state(address)? {
                s if s == "Established" => Ok(()),
                s => Err(format!("bgpState {s}")),
            },
        );
    }

    /// Paths FRR holds for `prefix` (`show bgp ipv4|ipv6 unicast json`,
    /// field `routes`); empty when it has none.
    pub fn paths(&self, prefix: &str) -> Result<Vec<Value>, String> {
        let afi = if prefix.contains(':') { "ipv6" } else { "ipv4" };
        let v = self.json(&format!("show bgp {afi} unicast json"))?;
        Ok(v["routes"][prefix].as_array().cloned().unwrap_or_default())
    }

    /// Prefixes received from a neighbour in its family, from
    /// `show bgp summary json` (`pfxRcd`).
    pub fn pfx_rcd(&self, address: &str) -> Result<u64, String> {
        let afi = if address.contains(':') {
            "ipv6Unicast"
        } else {
            "ipv4Unicast"
        };
        let v = self.json("show bgp summary json")?;
        v[afi]["peers"][address]["pfxRcd"]
            .as_u64()
            .ok_or_else(|| format!("no {afi}.peers.{address}.pfxRcd in {v}"))
    }
}

/// Runs vtysh commands against one daemon of a run directory; `Err` with
/// the output when vtysh fails.
fn vtysh_daemon(dir: &Path, daemon: &str, commands: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new(VTYSH);
    cmd.arg("--vty_socket").arg(dir).args(["-d", daemon]);
    for c in commands {
        cmd.args(["-c", c]);
    }
    let out = cmd.output().map_err(|e| format!("vtysh: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "vtysh -d {daemon} {commands:?} failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(stdout)
}

impl Frr {
    /// `show bfd peers json` from bfdd: one object per session.
    pub fn bfd_peers(&self) -> Result<Vec<Value>, String> {
        let text = vtysh_daemon(&self.dir, "bfdd", &["show bfd peers json"])?;
        parse_json("show bfd peers json", &text)?
            .as_array()
            .cloned()
            .ok_or_else(|| format!("show bfd peers json: not an array: {text}"))
    }

    /// bfdd's session to `address` (field `peer`), if it has one.
    pub fn bfd_peer(&self, address: &str) -> Result<Option<Value>, String> {
        Ok(self.bfd_peers()?.into_iter().find(|p| p["peer"] == address))
    }

    /// bfdd's log, where `debug bfd peer` records every state change.
    pub fn bfdd_log(&self) -> PathBuf {
        self.dir.join("bfdd.log")
    }
}

impl Frr {
    /// Waits for the neighbour at `address` to record a received Cease /
    /// Maximum Number of Prefixes Reached (RFC 4486 §4): the fields
    /// `lastErrorCodeSubcode` and `lastNotificationReason` of FRR 8.4.
    pub fn wait_max_prefix_cease(&self, lab: &Lab, address: &str) -> Value {
        let n = lab.wait(
            "FRR to record the Cease",
            std::time::Duration::from_secs(30),
            || {
                let n = self.neighbor(address)?;
                if n["lastErrorCodeSubcode"] == "0601" {
                    Ok(n)
                } else {
                    Err(n.to_string())
                }
            },
        );
        assert_eq!(
            n["lastNotificationReason"], "Cease/Maximum Number of Prefixes Reached",
            "{n}"
        );
        n
    }
}
