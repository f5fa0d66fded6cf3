//! strongSwan 5.9.8 (charon + swanctl) in a namespace: the customer gateway
//! of an AWS-style VPN tunnel, or (in the harness's own tests) an AWS-like
//! responder. See interop/strongswan/README.md for the recipe and its
//! gotchas; /work/shared/interop-notes.md for the machine facts.
//!
//! This kernel has no ESP, so charon runs with `kernel-libipsec`: ESP in
//! userspace, in UDP 4500 only, plain packets through the TUN device
//! `ipsec0`, routes in table 220. It is policy-based: the tunnels of one
//! charon need distinct traffic selectors ([`Selectors::InsideCidr`]), or
//! one namespace each ([`Selectors::Any`], AWS's 0.0.0.0/0).
//!
//! Each charon has a private `strongswan.conf` (`STRONGSWAN_CONF`), its vici
//! socket and log in the lab directory, and a tmpfs on `/run` of its own
//! mount namespace (the pid file path `/run/charon.pid` is fixed, so two
//! charons would otherwise refuse to start). `ip netns exec` already gives
//! the process a private mount namespace; the tmpfs dies with it.

use super::{render_template, run_ok, tail, Daemon, Lab, Netns};
use std::fmt::Write as _;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const CHARON: &str = "/usr/lib/ipsec/charon";
pub const SWANCTL: &str = "/usr/sbin/swanctl";
pub const LIBIPSEC_PLUGIN: &str = "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so";
pub const TUN: &str = "/dev/net/tun";
pub const DUMPCAP: &str = "/usr/bin/dumpcap";
pub const TSHARK: &str = "/usr/bin/tshark";
/// For silent cuts (DPD test), via `super::bfd::drop_input`.
pub const NFT: &str = "/usr/sbin/nft";

/// The Debian packages that provide the paths above.
pub const PACKAGES: &str =
    "strongswan strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins tshark nftables";

/// What the strongSwan tests need beyond [`super::interop_enabled`]'s list.
pub fn missing_prerequisites() -> Vec<String> {
    [CHARON, SWANCTL, LIBIPSEC_PLUGIN, TUN, DUMPCAP, TSHARK, NFT]
        .iter()
        .filter(|p| !Path::new(p).exists())
        .map(|p| p.to_string())
        .collect()
}

/// Call after [`super::interop_enabled`] returned true: a missing
/// prerequisite then fails the test (CI must not pass by skipping).
pub fn require(test: &str) {
    let missing = missing_prerequisites();
    assert!(
        missing.is_empty(),
        "{test}: missing {} (apt-get install -y {PACKAGES}; interop/test-all installs them)",
        missing.join(", ")
    );
}

// ---------------------------------------------------------------------------
// swanctl.conf for one side of an AWS VPN tunnel

/// Which end of the tunnel a configuration is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The customer gateway, as AWS's download configures it: initiates at
    /// once (`auto=start`), DPD action restart.
    CustomerGateway,
    /// An AWS-like endpoint (for testing the harness without hybridlab):
    /// never initiates (startup action `add`), DPD action clear, replay
    /// window 1024.
    Aws,
}

/// Traffic selectors of the one CHILD SA of a tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selectors {
    /// Both selectors = the tunnel's inside /30. Several tunnels can share
    /// one libipsec charon (policy-based: selectors must differ).
    InsideCidr,
    /// 0.0.0.0/0 both ways, AWS's default. One tunnel per namespace.
    Any,
}

/// One tunnel of an AWS VPN connection with the parameters of AWS's
/// downloadable configuration (spec "Generated customer gateway
/// configuration", A and C). Defaults by [`VpnTunnel::aws_default`].
#[derive(Clone, Debug)]
pub struct VpnTunnel {
    /// Connection and CHILD name in swanctl (`Tunnel1` in AWS's file).
    pub name: String,
    pub cgw_outside: Ipv4Addr,
    pub aws_outside: Ipv4Addr,
    /// Network address of the inside /30: AWS takes +1, the CGW +2.
    pub inside: Ipv4Addr,
    pub psk: String,
    pub ike_proposal: String,
    pub esp_proposal: String,
    /// Phase-1 lifetime on the wire (AWS: 28 800 s).
    pub ike_lifetime_s: u32,
    /// Phase-2 lifetime on the wire (AWS: 3 600 s).
    pub child_lifetime_s: u32,
    pub dpd_delay_s: u32,
    pub dpd_timeout_s: u32,
    pub selectors: Selectors,
    /// `encap = yes` forces NAT-T; AWS advises off when not behind NAT.
    /// libipsec encapsulates in UDP 4500 either way.
    pub encap: bool,
}

impl VpnTunnel {
    pub fn aws_default(
        name: &str,
        cgw_outside: Ipv4Addr,
        aws_outside: Ipv4Addr,
        inside: Ipv4Addr,
        psk: &str,
    ) -> VpnTunnel {
        VpnTunnel {
            name: name.to_string(),
            cgw_outside,
            aws_outside,
            inside,
            psk: psk.to_string(),
            ike_proposal: "aes128-sha1-modp1024".into(),
            esp_proposal: "aes128-sha1-modp1024".into(),
            ike_lifetime_s: 28_800,
            child_lifetime_s: 3_600,
            dpd_delay_s: 10,
            dpd_timeout_s: 30,
            selectors: Selectors::InsideCidr,
            encap: false,
        }
    }

    pub fn inside_cidr(&self) -> String {
        format!("{}/30", self.inside)
    }

    /// The VGW's inside address, network + 1.
    pub fn aws_inside(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.inside).wrapping_add(1))
    }

    /// The customer gateway's inside address, network + 2.
    pub fn cgw_inside(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.inside).wrapping_add(2))
    }

    /// This tunnel's fragment of swanctl.conf for `side`.
    pub fn render(&self, side: Side) -> String {
        let (local, remote) = match side {
            Side::CustomerGateway => (self.cgw_outside, self.aws_outside),
            Side::Aws => (self.aws_outside, self.cgw_outside),
        };
        let (dpd_action, start_action, replay_window) = match side {
            Side::CustomerGateway => ("restart", "start", "32"),
            Side::Aws => ("clear", "none", "1024"),
        };
        let ts = match self.selectors {
            Selectors::InsideCidr => self.inside_cidr(),
            Selectors::Any => "0.0.0.0/0".to_string(),
        };
        // interop-notes: on the wire IKEv1 sends reauth_time + over_time and
        // the CHILD life_time; a 90/10 split makes charon renew before the
        // peer's lifetime runs out, as a real CGW does.
        let ike_over = self.ike_lifetime_s / 10;
        let ike_reauth = self.ike_lifetime_s - ike_over;
        let child_rekey = self.child_lifetime_s - self.child_lifetime_s / 10;
        render_template(
            "strongswan/tunnel.swanctl.conf.tmpl",
            &[
                ("name", &self.name),
                ("local_outside", &local.to_string()),
                ("remote_outside", &remote.to_string()),
                ("ike_proposal", &self.ike_proposal),
                ("esp_proposal", &self.esp_proposal),
                ("ike_reauth", &ike_reauth.to_string()),
                ("ike_over", &ike_over.to_string()),
                ("child_rekey", &child_rekey.to_string()),
                ("child_life", &self.child_lifetime_s.to_string()),
                ("dpd_delay", &self.dpd_delay_s.to_string()),
                ("dpd_timeout", &self.dpd_timeout_s.to_string()),
                ("encap", if self.encap { "yes" } else { "no" }),
                ("local_ts", &ts),
                ("remote_ts", &ts),
                ("replay_window", replay_window),
                ("dpd_action", dpd_action),
                ("start_action", start_action),
                ("psk", &self.psk),
            ],
        )
    }
}

/// A whole swanctl.conf: the tunnels' fragments one after the other.
pub fn swanctl_conf(side: Side, tunnels: &[VpnTunnel]) -> String {
    tunnels
        .iter()
        .map(|t| t.render(side))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Puts a tunnel's inside address on `lo` as a /32 (no dummy interfaces in
/// this kernel). charon finds it inside the local selector and installs the
/// route to the peer's side through `ipsec0` with it as source.
pub fn add_inside_address(ns: &Netns, address: Ipv4Addr) {
    ns.ip(&["addr", "add", &format!("{address}/32"), "dev", "lo"]);
}

// ---------------------------------------------------------------------------
// charon

/// How much charon logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// IKE and CHILD at level 2: exchanges and decisions, no hexdumps.
    Normal,
    /// Level 4: hexdumps of the DH secret, SKEYID*, Ka and the ESP keys
    /// (what [`parse_logged_hexdumps`] reads). Slower; never for benchmarks.
    Secrets,
}

/// One charon in one namespace. Killed (SIGTERM, then SIGKILL) and reaped
/// when dropped.
pub struct Charon {
    pub name: String,
    pub ns: Netns,
    pub dir: PathBuf,
    /// Its private strongswan.conf; swanctl reads the socket path from it.
    pub conf: PathBuf,
    pub log: PathBuf,
    daemon: Daemon,
}

impl Charon {
    /// Starts charon in `ns` and waits until vici answers.
    pub fn start(lab: &Lab, ns: &Netns, name: &str, level: LogLevel) -> Charon {
        let dir = lab.subdir(name);
        let conf = dir.join("strongswan.conf");
        let log = dir.join("charon.log");
        let vici = dir.join("charon.vici");
        let level = match level {
            LogLevel::Normal => "2",
            LogLevel::Secrets => "4",
        };
        let text = render_template(
            "strongswan/strongswan.conf.tmpl",
            &[
                ("vici", &vici.display().to_string()),
                ("log", &log.display().to_string()),
                ("ike_level", level),
                ("chd_level", level),
            ],
        );
        fs::write(&conf, text).unwrap_or_else(|e| panic!("write {}: {e}", conf.display()));
        lab.track_log(&format!("{name} charon.log"), &log);

        // `exec` keeps the PID: the Daemon's PID is charon's.
        let mut cmd = ns.command("sh");
        cmd.args(["-c", &format!("mount -t tmpfs tmpfs /run && exec {CHARON}")])
            .env("STRONGSWAN_CONF", &conf);
        let daemon = Daemon::spawn(lab, &format!("{name} charon"), cmd, &dir.join("charon.out"));
        let mut charon = Charon {
            name: name.to_string(),
            ns: ns.clone(),
            dir,
            conf,
            log,
            daemon,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Err(e) = charon.daemon.check_running() {
                lab.fail(&format!("{e}\n{}", tail(&charon.daemon.log, 20)));
            }
            if vici.exists() && charon.swanctl(&["--stats"]).is_ok() {
                return charon;
            }
            if Instant::now() >= deadline {
                lab.fail(&format!("{name}: vici socket never answered"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The customer gateway of a VPN connection in one call: the CGW inside
    /// addresses on `lo`, charon started, AWS's configuration for `tunnels`
    /// loaded. `start_action = start` makes it initiate at once; wait with
    /// [`Charon::wait_installed`]. The peer (hybridlab, or an AWS-side
    /// charon) must answer on each tunnel's `aws_outside` address.
    pub fn start_customer_gateway(
        lab: &Lab,
        ns: &Netns,
        tunnels: &[VpnTunnel],
        level: LogLevel,
    ) -> Charon {
        for t in tunnels {
            add_inside_address(ns, t.cgw_inside());
        }
        let charon = Charon::start(lab, ns, "cgw", level);
        charon.load(&swanctl_conf(Side::CustomerGateway, tunnels));
        charon
    }

    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }

    pub fn check_running(&mut self) -> Result<(), String> {
        self.daemon.check_running()
    }

    /// `swanctl ARGS` against this charon. swanctl reaches it through the
    /// vici socket in the file system, so it runs outside the namespace.
    pub fn swanctl(&self, args: &[&str]) -> Result<Output, String> {
        let out = Command::new(SWANCTL)
            .args(args)
            .env("STRONGSWAN_CONF", &self.conf)
            .output()
            .map_err(|e| format!("run swanctl: {e}"))?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(format!(
                "swanctl {args:?} ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Writes `swanctl_conf` next to the strongswan.conf and loads it
    /// (`--load-all`: connections and secrets; replaces earlier ones).
    pub fn load(&self, swanctl_conf: &str) {
        let path = self.dir.join("swanctl.conf");
        fs::write(&path, swanctl_conf).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        let file = path.display().to_string();
        if let Err(e) = self.swanctl(&["--load-all", "--noprompt", "--file", &file]) {
            panic!("{}: {e}", self.name);
        }
    }

    /// `swanctl --list-sas --pretty`, parsed.
    pub fn list_sas(&self) -> Result<Vec<IkeSa>, String> {
        let out = self.swanctl(&["--list-sas", "--pretty"])?;
        parse_list_sas(&String::from_utf8_lossy(&out.stdout))
    }

    /// The established IKE SA of connection `name` and its installed CHILD
    /// SA, if both are up.
    pub fn installed(&self, name: &str) -> Result<(IkeSa, ChildSa), String> {
        let sas = self.list_sas()?;
        let ike = sas
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| format!("{}: no IKE SA {name}: {sas:?}", self.name))?;
        if ike.state != "ESTABLISHED" {
            return Err(format!("{}: IKE SA {name} is {}", self.name, ike.state));
        }
        let child = ike
            .children
            .iter()
            .find(|c| c.name == name && c.state == "INSTALLED")
            .ok_or_else(|| format!("{}: no installed CHILD SA {name}: {ike:?}", self.name))?;
        Ok((ike.clone(), child.clone()))
    }

    pub fn wait_installed(&self, lab: &Lab, name: &str, timeout: Duration) -> (IkeSa, ChildSa) {
        lab.wait(&format!("{} tunnel {name} up", self.name), timeout, || {
            self.installed(name)
        })
    }

    /// `swanctl --initiate --child NAME`: returns once the CHILD SA is up or
    /// the attempt failed.
    pub fn initiate(&self, child: &str) -> Result<(), String> {
        self.swanctl(&["--initiate", "--child", child, "--timeout", "20"])
            .map(|_| ())
    }

    /// `swanctl --terminate --ike NAME`: deletes the IKE SA (and its CHILD
    /// SAs), telling the peer. An explicit terminate does not fire the DPD
    /// restart action.
    pub fn terminate(&self, ike: &str) -> Result<(), String> {
        self.swanctl(&["--terminate", "--ike", ike, "--timeout", "20"])
            .map(|_| ())
    }

    /// The log's current length: pass it to [`Charon::log_since`] to read
    /// only what one exchange wrote.
    pub fn log_offset(&self) -> usize {
        fs::metadata(&self.log)
            .map(|m| m.len() as usize)
            .unwrap_or(0)
    }

    pub fn log_since(&self, offset: usize) -> String {
        let text = fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(text.get(offset..).unwrap_or_default()).into_owned()
    }
}

// ---------------------------------------------------------------------------
// swanctl --list-sas --pretty

/// One IKE SA as `swanctl --list-sas` reports it (the fields tests use).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IkeSa {
    /// The connection name.
    pub name: String,
    pub version: u8,
    pub state: String,
    pub local_host: String,
    pub local_port: u16,
    pub remote_host: String,
    pub remote_port: u16,
    pub initiator: bool,
    /// IKEv1 initiator cookie, 16 hex digits.
    pub initiator_spi: String,
    pub responder_spi: String,
    pub encr_alg: String,
    pub encr_keysize: u32,
    pub integ_alg: String,
    pub dh_group: String,
    /// libipsec fakes NAT detection to force UDP encapsulation.
    pub nat_any: bool,
    pub reauth_time: Option<u64>,
    pub children: Vec<ChildSa>,
}

/// One CHILD SA (an SA pair) with its counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChildSa {
    pub name: String,
    pub state: String,
    pub mode: String,
    pub protocol: String,
    pub encap: bool,
    /// 8 hex digits, as swanctl prints them.
    pub spi_in: String,
    pub spi_out: String,
    pub encr_alg: String,
    pub integ_alg: String,
    pub dh_group: String,
    pub bytes_in: u64,
    pub packets_in: u64,
    pub bytes_out: u64,
    pub packets_out: u64,
    pub rekey_time: Option<u64>,
    pub life_time: Option<u64>,
    pub local_ts: Vec<String>,
    pub remote_ts: Vec<String>,
}

/// A node of vici's message tree as swanctl prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Vici {
    Value(String),
    List(Vec<String>),
    Section(Vec<(String, Vici)>),
}

impl Vici {
    pub fn get(&self, key: &str) -> Option<&Vici> {
        match self {
            Vici::Section(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Vici::Value(v)) => Some(v),
            _ => None,
        }
    }

    fn string(&self, key: &str) -> String {
        self.str(key).unwrap_or_default().to_string()
    }

    fn num<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.str(key).and_then(|v| v.parse().ok())
    }

    fn yes(&self, key: &str) -> bool {
        self.str(key) == Some("yes")
    }

    fn list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Vici::List(v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    fn sections(&self) -> Vec<(&str, &Vici)> {
        match self {
            Vici::Section(items) => items
                .iter()
                .filter(|(_, v)| matches!(v, Vici::Section(_)))
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Parses swanctl's `--pretty` output: lines `name {`, `}`, `key = value`,
/// `key = [`, list items, `]`. Returns the top-level messages by name
/// (`list-sa event`, repeated once per IKE SA; `list-sas reply`).
pub fn parse_vici_pretty(text: &str) -> Result<Vec<(String, Vici)>, String> {
    // Stack of open sections: (name, items). The bottom one collects the
    // top-level messages.
    let mut stack: Vec<(String, Vec<(String, Vici)>)> = vec![(String::new(), Vec::new())];
    let mut list: Option<(String, Vec<String>)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some((key, items)) = list.as_mut() {
            if line == "]" {
                let key = std::mem::take(key);
                let items = std::mem::take(items);
                list = None;
                push(&mut stack, key, Vici::List(items), n)?;
            } else {
                items.push(line.to_string());
            }
            continue;
        }
        if line == "}" {
            if stack.len() < 2 {
                return Err(format!("line {}: unbalanced }}", n + 1));
            }
            let (name, items) = stack.pop().unwrap_or_default();
            push(&mut stack, name, Vici::Section(items), n)?;
        } else if let Some(name) = line.strip_suffix(" {") {
            stack.push((name.to_string(), Vec::new()));
        } else if let Some((key, value)) = line.split_once(" = ") {
            if value == "[" {
                list = Some((key.to_string(), Vec::new()));
            } else {
                push(
                    &mut stack,
                    key.to_string(),
                    Vici::Value(value.to_string()),
                    n,
                )?;
            }
        } else if let Some(key) = line.strip_suffix(" =") {
            // An empty value.
            push(&mut stack, key.to_string(), Vici::Value(String::new()), n)?;
        } else {
            return Err(format!("line {}: cannot read `{line}`", n + 1));
        }
    }
    if stack.len() != 1 || list.is_some() {
        return Err("unterminated section or list".into());
    }
    Ok(stack.pop().map(|(_, items)| items).unwrap_or_default())
}

fn push(
    stack: &mut [(String, Vec<(String, Vici)>)],
    key: String,
    value: Vici,
    line: usize,
) -> Result<(), String> {
    stack
        .last_mut()
        .map(|(_, items)| items.push((key, value)))
        .ok_or_else(|| format!("line {}: no open section", line + 1))
}

/// The IKE SAs in `swanctl --list-sas --pretty` output.
pub fn parse_list_sas(text: &str) -> Result<Vec<IkeSa>, String> {
    let messages = parse_vici_pretty(text)?;
    let mut sas = Vec::new();
    for (message, body) in &messages {
        if message != "list-sa event" {
            continue;
        }
        for (name, ike) in body.sections() {
            let children = ike
                .get("child-sas")
                .map(|c| c.sections())
                .unwrap_or_default()
                .into_iter()
                .map(|(_, c)| ChildSa {
                    name: c.string("name"),
                    state: c.string("state"),
                    mode: c.string("mode"),
                    protocol: c.string("protocol"),
                    encap: c.yes("encap"),
                    spi_in: c.string("spi-in"),
                    spi_out: c.string("spi-out"),
                    encr_alg: c.string("encr-alg"),
                    integ_alg: c.string("integ-alg"),
                    dh_group: c.string("dh-group"),
                    bytes_in: c.num("bytes-in").unwrap_or(0),
                    packets_in: c.num("packets-in").unwrap_or(0),
                    bytes_out: c.num("bytes-out").unwrap_or(0),
                    packets_out: c.num("packets-out").unwrap_or(0),
                    rekey_time: c.num("rekey-time"),
                    life_time: c.num("life-time"),
                    local_ts: c.list("local-ts"),
                    remote_ts: c.list("remote-ts"),
                })
                .collect();
            sas.push(IkeSa {
                name: name.to_string(),
                version: ike.num("version").unwrap_or(0),
                state: ike.string("state"),
                local_host: ike.string("local-host"),
                local_port: ike.num("local-port").unwrap_or(0),
                remote_host: ike.string("remote-host"),
                remote_port: ike.num("remote-port").unwrap_or(0),
                initiator: ike.yes("initiator"),
                initiator_spi: ike.string("initiator-spi"),
                responder_spi: ike.string("responder-spi"),
                encr_alg: ike.string("encr-alg"),
                encr_keysize: ike.num("encr-keysize").unwrap_or(0),
                integ_alg: ike.string("integ-alg"),
                dh_group: ike.string("dh-group"),
                nat_any: ike.yes("nat-any"),
                reauth_time: ike.num("reauth-time"),
                children,
            });
        }
    }
    Ok(sas)
}

// ---------------------------------------------------------------------------
// Secrets in charon's log (ike 4 / chd 4)

/// Every hexdump charon logged in `log` as `(label, bytes)`, in order.
/// A hexdump is a line `TIME TID[GRP] LABEL => N bytes @ 0xADDR` followed by
/// lines `TIME TID[GRP]   OFFSET: HEX ...  ASCII` of the same thread (other
/// threads' lines may interleave).
pub fn parse_logged_hexdumps(log: &str) -> Vec<(String, Vec<u8>)> {
    let lines: Vec<&str> = log.lines().collect();
    let mut dumps = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((thread, message)) = split_log_line(line) else {
            continue;
        };
        let Some((label, rest)) = message.split_once(" => ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(count), Some("bytes")) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(len) = count.parse::<usize>() else {
            continue;
        };
        let mut bytes = Vec::with_capacity(len);
        for next in &lines[i + 1..] {
            if bytes.len() >= len {
                break;
            }
            let Some((t, m)) = split_log_line(next) else {
                continue;
            };
            if t != thread {
                continue;
            }
            match hexdump_row(m) {
                Some(row) => bytes.extend(row),
                None => break,
            }
        }
        bytes.truncate(len);
        if bytes.len() == len {
            dumps.push((label.trim().to_string(), bytes));
        }
    }
    dumps
}

/// `TIME TID[GRP] MESSAGE` → (`TID`, `MESSAGE` without its first space).
fn split_log_line(line: &str) -> Option<(&str, &str)> {
    let (_time, rest) = line.split_once(' ')?;
    let (thread, rest) = rest.split_once('[')?;
    if thread.is_empty() || !thread.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (_group, message) = rest.split_once("] ")?;
    Some((thread, message))
}

/// `   16: 6A 55 83 C2      jU..` → the bytes.
fn hexdump_row(message: &str) -> Option<Vec<u8>> {
    let (offset, rest) = message.trim_start().split_once(": ")?;
    offset.parse::<usize>().ok()?;
    let mut bytes = Vec::new();
    // Hex pairs separated by single spaces; two spaces start the ASCII.
    let hex = rest.split("  ").next()?;
    for pair in hex.split(' ') {
        if pair.len() != 2 {
            return None;
        }
        bytes.push(u8::from_str_radix(pair, 16).ok()?);
    }
    Some(bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The key material of one IKEv1 main mode + quick mode exchange, as the
/// initiator logged it, with what a reader needs to use it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExchangeKeys {
    pub initiator_addr: String,
    pub responder_addr: String,
    pub psk: String,
    pub initiator_cookie: String,
    pub responder_cookie: String,
    /// Phase-1 hexdumps: `shared Diffie Hellman secret`, `SKEYID`,
    /// `SKEYID_d`, `SKEYID_a`, `SKEYID_e`, `encryption key Ka`, `initial IV`,
    /// `HASH_I`, `HASH_R`; quick mode: `DH secret` (PFS), `Hash(1..3)`, the
    /// ESP keys. Labels exactly as charon logs them.
    pub dumps: Vec<(String, String)>,
    /// ESP SPI the initiator sends with (the responder's inbound SPI).
    pub spi_i2r: String,
    pub spi_r2i: String,
    /// ESP algorithms by their names in tshark's `esp_sa` table; empty =
    /// AWS's default, `AES-CBC [RFC3602]` and `HMAC-SHA-1-96 [RFC2404]`.
    pub esp_encryption: String,
    pub esp_integrity: String,
}

pub const TSHARK_AES_CBC: &str = "AES-CBC [RFC3602]";
pub const TSHARK_HMAC_SHA1_96: &str = "HMAC-SHA-1-96 [RFC2404]";
pub const TSHARK_HMAC_SHA256_128: &str = "HMAC-SHA-256-128 [RFC4868]";

/// Labels kept in [`ExchangeKeys::dumps`]: enough for tshark and for
/// known-answer tests of the IKEv1 key derivation (RFC 2409 §5, §5.5).
pub const KEPT_LABELS: &[&str] = &[
    "shared Diffie Hellman secret",
    "SKEYID",
    "SKEYID_d",
    "SKEYID_a",
    "SKEYID_e",
    "encryption key Ka",
    "initial IV",
    "HASH_I",
    "HASH_R",
    "DH secret",
    "Hash(1)",
    "Hash(2)",
    "Hash(3)",
    "encryption initiator key",
    "encryption responder key",
    "integrity initiator key",
    "integrity responder key",
];

impl ExchangeKeys {
    /// Collects the first occurrence of each kept label from a log slice
    /// that holds exactly one exchange.
    pub fn from_log(log: &str) -> Result<Vec<(String, String)>, String> {
        let all = parse_logged_hexdumps(log);
        let mut kept = Vec::new();
        for label in KEPT_LABELS {
            match all.iter().find(|(l, _)| l == label) {
                Some((_, bytes)) => kept.push((label.to_string(), hex(bytes))),
                None => {
                    return Err(format!(
                        "no `{label}` hexdump in the log (ike/chd level 4?)"
                    ))
                }
            }
        }
        Ok(kept)
    }

    pub fn dump(&self, label: &str) -> Option<&str> {
        self.dumps
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
    }

    /// `tshark -o` options that decrypt the exchange: IKEv1 by initiator
    /// cookie and Ka; ESP (in UDP 4500) per direction. In IKEv1 the
    /// "initiator" keys protect initiator → responder traffic.
    pub fn tshark_options(&self) -> Vec<String> {
        let get = |l: &str| self.dump(l).unwrap_or_default().to_string();
        let or = |v: &str, default: &str| {
            if v.is_empty() {
                default.to_string()
            } else {
                v.to_string()
            }
        };
        let encr = or(&self.esp_encryption, TSHARK_AES_CBC);
        let integ = or(&self.esp_integrity, TSHARK_HMAC_SHA1_96);
        let esp = |src: &str, dst: &str, spi: &str, enc: String, auth: String| {
            format!(
                "uat:esp_sa:\"IPv4\",\"{src}\",\"{dst}\",\"0x{spi}\",\"{encr}\",\
                 \"0x{enc}\",\"{integ}\",\"0x{auth}\""
            )
        };
        let opts = vec![
            // Hex fields of this UAT are NOT quoted (quoted = taken as text).
            format!(
                "uat:ikev1_decryption_table:{},{}",
                self.initiator_cookie,
                get("encryption key Ka")
            ),
            "esp.enable_encryption_decode:TRUE".to_string(),
            "esp.enable_authentication_check:TRUE".to_string(),
            esp(
                &self.initiator_addr,
                &self.responder_addr,
                &self.spi_i2r,
                get("encryption initiator key"),
                get("integrity initiator key"),
            ),
            esp(
                &self.responder_addr,
                &self.initiator_addr,
                &self.spi_r2i,
                get("encryption responder key"),
                get("integrity responder key"),
            ),
        ];
        opts.into_iter()
            .flat_map(|o| ["-o".to_string(), o])
            .collect()
    }

    /// The keys file kept beside a capture: `key = value` lines.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# Written by tests/interop_strongswan_harness.rs; see README.md."
        );
        for (k, v) in [
            ("initiator_addr", &self.initiator_addr),
            ("responder_addr", &self.responder_addr),
            ("psk", &self.psk),
            ("initiator_cookie", &self.initiator_cookie),
            ("responder_cookie", &self.responder_cookie),
            ("esp_spi_initiator_to_responder", &self.spi_i2r),
            ("esp_spi_responder_to_initiator", &self.spi_r2i),
            ("esp_encryption", &self.esp_encryption),
            ("esp_integrity", &self.esp_integrity),
        ] {
            if v.is_empty() {
                continue;
            }
            let _ = writeln!(s, "{k} = {v}");
        }
        for (label, value) in &self.dumps {
            let _ = writeln!(s, "{label} = {value}");
        }
        s
    }

    pub fn from_text(text: &str) -> Result<ExchangeKeys, String> {
        let mut keys = ExchangeKeys::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line
                .split_once(" = ")
                .ok_or_else(|| format!("not `key = value`: {line}"))?;
            let v = v.to_string();
            match k {
                "initiator_addr" => keys.initiator_addr = v,
                "responder_addr" => keys.responder_addr = v,
                "psk" => keys.psk = v,
                "initiator_cookie" => keys.initiator_cookie = v,
                "responder_cookie" => keys.responder_cookie = v,
                "esp_spi_initiator_to_responder" => keys.spi_i2r = v,
                "esp_spi_responder_to_initiator" => keys.spi_r2i = v,
                "esp_encryption" => keys.esp_encryption = v,
                "esp_integrity" => keys.esp_integrity = v,
                label => keys.dumps.push((label.to_string(), v)),
            }
        }
        Ok(keys)
    }
}

/// `tshark -r PCAP OPTIONS -Y FILTER -T fields -e F...`: one row per packet,
/// fields tab-separated.
pub fn tshark_fields(
    pcap: &Path,
    options: &[String],
    filter: &str,
    fields: &[&str],
) -> Result<Vec<Vec<String>>, String> {
    let mut cmd = Command::new(TSHARK);
    cmd.arg("-n").arg("-r").arg(pcap).args(options);
    cmd.args([
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().map_err(|e| format!("run tshark: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tshark ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect())
}

// ---------------------------------------------------------------------------
// Packet capture

/// `dumpcap -P` (classic pcap) inside a namespace, stopped with SIGINT so
/// the file is complete.
pub struct Dumpcap {
    pub file: PathBuf,
    daemon: Option<Daemon>,
}

impl Dumpcap {
    pub fn start(lab: &Lab, ns: &Netns, iface: &str, filter: &str, file: &Path) -> Dumpcap {
        let log = file.with_extension("dumpcap.log");
        let mut cmd = ns.command(DUMPCAP);
        cmd.arg("-q")
            .args(["-i", iface, "-P", "-f", filter, "-w"])
            .arg(file);
        let mut daemon = Daemon::spawn(lab, "dumpcap", cmd, &log);
        lab.wait("dumpcap capturing", Duration::from_secs(10), || {
            daemon.check_running()?;
            let text = fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Capturing on") && file.exists() {
                Ok(())
            } else {
                Err(text)
            }
        });
        Dumpcap {
            file: file.to_path_buf(),
            daemon: Some(daemon),
        }
    }

    /// Stops the capture and returns the file.
    pub fn stop(mut self) -> PathBuf {
        if let Some(mut d) = self.daemon.take() {
            // dumpcap reads the kernel's capture buffer in batches and drops
            // what it has not read yet when interrupted: packets of the last
            // few hundred milliseconds went missing without this pause.
            std::thread::sleep(Duration::from_millis(500));
            let _ = run_ok(Command::new("kill").args(["-INT", &d.pid().to_string()]));
            let deadline = Instant::now() + Duration::from_secs(5);
            while d.check_running().is_ok() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.file.clone()
    }
}

// ---------------------------------------------------------------------------
// Measurements

/// Milliseconds between the first log line containing `from` and the last
/// containing `to` (charon's `HH:MM:SS.mmm` timestamps; same day).
pub fn log_span_ms(log: &str, from: &str, to: &str) -> Option<u64> {
    let stamp = |line: &str| -> Option<u64> {
        let (time, ms) = line.split(' ').next()?.split_once('.')?;
        let mut hms = time.split(':').map(|v| v.parse::<u64>().ok());
        let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
        Some(((h * 60 + m) * 60 + s) * 1000 + ms.parse::<u64>().ok()?)
    };
    let start = log.lines().find(|l| l.contains(from)).and_then(stamp)?;
    let end = log.lines().rfind(|l| l.contains(to)).and_then(stamp)?;
    end.checked_sub(start)
}

/// min / avg / max RTT in ms from ping's summary line.
pub fn parse_ping_rtt(output: &str) -> Option<(f64, f64, f64)> {
    let line = output.lines().find(|l| l.contains("min/avg/max"))?;
    let values = line.split_once(" = ")?.1;
    let mut it = values.split(' ').next()?.split('/');
    let min = it.next()?.parse().ok()?;
    let avg = it.next()?.parse().ok()?;
    let max = it.next()?.parse().ok()?;
    Some((min, avg, max))
}

/// Received count from ping's `N packets transmitted, M received`.
pub fn parse_ping_received(output: &str) -> Option<u64> {
    let line = output.lines().find(|l| l.contains("packets transmitted"))?;
    let part = line.split(", ").nth(1)?;
    part.split(' ').next()?.parse().ok()
}
