//! BFD between hybridlab and a real peer: hybridlab's view (`show bfd
//! --json`, docs/control-api.md), the peer's view behind [`PeerView`], the
//! two ways of cutting the link, and one cut-and-recover trial that both
//! the FRR and the BIRD tests run.
//!
//! Detection is measured on wall clocks: hybridlab's `last_change_unix_ms`
//! against the instant the cut was in place, the peer's from its own log
//! lines at millisecond precision. Both clocks are this machine's.

use super::hybridlab::{
    HlBfd, HlNeighbor, HlRouter, Hybridlab, Topology, CLOUD, CLOUD_ASN, CLOUD_ID,
};
use super::{parse_json, run_ok, Daemon, Lab, Link, Netns};
use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 300 ms × 3: what the cloud's Direct Connect side runs, and what every
/// peer here is configured for.
pub const INTERVAL_MS: u64 = 300;
pub const MULTIPLIER: u64 = 3;
pub const DETECTION_MS: u64 = INTERVAL_MS * MULTIPLIER;

/// Allowance on top of detection time plus one interval, for the instant
/// the cut is recorded: it is taken right after the last `nft` (or `ip`)
/// process returns, a few milliseconds after the kernel applied the rule,
/// and for hybridlab's timer task being scheduled late on a busy 2-core
/// machine.
pub const CUT_TOLERANCE_MS: u64 = 50;

/// hybridlab's BGP session must go down within this of its BFD session,
/// on the wall clock of a machine busy with other labs. The two timestamps
/// come from different tasks (the BFD table's timer, then the router task
/// that reads the event), so a 2-core CI box running parallel tests has
/// been seen to put 196 ms between them. That BGP goes down at the very
/// instant of the detection is asserted exactly, in virtual time, in
/// crates/runtime/tests/bfd_virtual.rs.
pub const BGP_FOLLOWS_BFD_MS: i64 = 300;

/// The time allowed for a cut to be detected before a test gives up (far
/// beyond the asserted bound, so a late detection is measured, not timed out).
const DETECT_WAIT: Duration = Duration::from_secs(10);
/// How long a session runs Up before it is cut.
const SETTLE: Duration = Duration::from_secs(1);
/// BFD's slow rate outside Up is 1 s (RFC 5880 §6.8.3), then BGP reconnects.
const RECOVER_WAIT: Duration = Duration::from_secs(30);

/// Whether the BFD interop tests run: [`super::interop_enabled`], plus the
/// FRR daemons and `nft` they need on top of the BGP tests'. With
/// [`super::INTEROP_ENV`] set, a missing one is a failure.
pub fn interop_enabled(test: &str) -> bool {
    if !super::interop_enabled(test) {
        return false;
    }
    let missing: Vec<&str> = [super::frr::ZEBRA, super::frr::BFDD]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .chain((!succeeds(Command::new("nft").arg("--version"))).then_some("nft (nftables)"))
        .collect();
    assert!(
        missing.is_empty(),
        "{test}: {} is set but BFD prerequisites are missing: {}",
        super::INTEROP_ENV,
        missing.join(", ")
    );
    true
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Milliseconds since the Unix epoch, the unit of `last_change_unix_ms`.
pub fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Hybridlab {
    /// `show bfd --json`: the `bfd` array.
    pub fn bfd_sessions(&self) -> Result<Vec<Value>, String> {
        let v = parse_json("show bfd --json", &self.cli(&["show", "bfd", "--json"])?)?;
        v["bfd"]
            .as_array()
            .cloned()
            .ok_or_else(|| format!("no `bfd` array in {v}"))
    }

    pub fn bfd_session(&self, neighbor: &str) -> Result<Value, String> {
        self.bfd_sessions()?
            .into_iter()
            .find(|s| s["neighbor"] == neighbor)
            .ok_or_else(|| format!("no BFD session with neighbor {neighbor}"))
    }
}

/// What a test needs from the real peer, FRR or BIRD.
pub trait PeerView {
    /// "FRR" or "BIRD", for messages and the printed figures.
    fn label(&self) -> &'static str;
    /// Its BFD session to hybridlab: `Up`, `Down`, `Init`, `AdminDown`, or
    /// `None` when it has none.
    fn bfd_state(&self) -> Result<Option<String>, String>;
    fn bgp_established(&self) -> Result<bool, String>;
    /// Its BGP state and last error, for messages.
    fn bgp_summary(&self) -> Result<String, String>;
    /// The first Up → Down of its BFD session logged at or after `after_ms`.
    fn bfd_down_logged(&self, after_ms: u64) -> Option<u64>;
}

/// hybridlab's side of every BFD test: router `cloud` on side A of `link`,
/// originating 10.10.0.0/16, with one IPv4 neighbour on side B running BFD.
pub fn topology(link: &Link, neighbor: &str, remote_asn: u32, bfd: HlBfd) -> Topology {
    let mut n = HlNeighbor::new(neighbor, &link.b4, remote_asn);
    n.bfd = Some(bfd);
    Topology {
        name: format!("{neighbor}-bfd"),
        routers: vec![HlRouter {
            name: CLOUD.to_string(),
            asn: CLOUD_ASN,
            router_id: CLOUD_ID.to_string(),
            networks: vec!["10.10.0.0/16".to_string()],
            listen: vec![format!("{}:179", link.a4)],
            neighbors: vec![n],
        }],
        policies: Vec::new(),
    }
}

/// How the link is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// An nftables drop of everything arriving on the link, on the input
    /// hook at both ends. The link stays up and nothing is told: only BFD
    /// can notice. (A drop on output would fail the sender's sendmsg with
    /// EPERM, which is not silent.)
    SilentLoss,
    /// `ip link set DEV down` on hybridlab's end; the peer's end loses
    /// carrier.
    LinkDown,
}

/// When a cut was put in place, in Unix milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct CutInstants {
    /// Before anything was touched.
    pub started_ms: u64,
    /// The peer stops hearing hybridlab from here on.
    pub peer_cut_ms: u64,
    /// hybridlab stops hearing the peer from here on: the start of its
    /// detection. The last step of the cut, recorded right after it.
    pub hybridlab_cut_ms: u64,
    /// hybridlab's `counters.failures` just before the cut.
    pub failures_before: u64,
}

const CUT_TABLE: &str = "hybridlab_cut";

/// Drops everything arriving on `ifname` in `ns` (the input hook).
pub fn drop_input(ns: &Netns, ifname: &str) {
    let rules = format!(
        "table inet {CUT_TABLE} {{\n  chain input {{\n    \
         type filter hook input priority filter; policy accept;\n    \
         iifname \"{ifname}\" drop\n  }}\n}}\n"
    );
    let mut child = ns
        .command("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("nft in {}: {e}", ns.name));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(rules.as_bytes())
            .unwrap_or_else(|e| panic!("nft stdin: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("nft in {}: {e}", ns.name));
    assert!(
        out.status.success(),
        "nft -f in {} failed: {}{}",
        ns.name,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Removes [`drop_input`]'s rule.
pub fn undrop_input(ns: &Netns) {
    run_ok(
        ns.command("nft")
            .args(["delete", "table", "inet", CUT_TABLE]),
    );
}

pub const DUMPCAP: &str = "/usr/bin/dumpcap";
pub const TSHARK: &str = "/usr/bin/tshark";

/// A running capture and the file it writes.
pub struct Capture {
    pub file: PathBuf,
    daemon: Daemon,
}

impl Capture {
    /// Stops dumpcap (so the file is complete) and decodes every BFD
    /// Control packet `from` sent, as tshark reads them: `None` without
    /// tshark.
    pub fn bfd_packets_from(self, from: &str) -> Option<Vec<WireBfd>> {
        drop(self.daemon);
        if !Path::new(TSHARK).exists() {
            eprintln!("no {TSHARK}: BFD packets on the wire not checked");
            return None;
        }
        // Not ICMP errors quoting a peer's packet (sent before hybridlab listened).
        let filter = format!("bfd && ip.src == {from} && !icmp");
        let out = run_ok(
            Command::new(TSHARK)
                .arg("-r")
                .arg(&self.file)
                .args(["-Y", &filter, "-T", "fields", "-E", "separator=,"])
                .args(WireBfd::FIELDS.iter().flat_map(|f| ["-e", f])),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let packets = text
            .lines()
            .map(|l| {
                WireBfd::parse(l)
                    .unwrap_or_else(|| panic!("tshark line `{l}` from {}", self.file.display()))
            })
            .collect();
        Some(packets)
    }
}

/// One BFD Control packet as tshark decodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireBfd {
    pub ttl: u8,
    pub src_port: u16,
    pub dst_port: u16,
    /// RFC 5880 §4.1 State: 0 AdminDown, 1 Down, 2 Init, 3 Up.
    pub state: u8,
    pub detect_mult: u8,
    pub desired_min_tx_us: u32,
    pub required_min_rx_us: u32,
}

impl WireBfd {
    const FIELDS: [&'static str; 7] = [
        "ip.ttl",
        "udp.srcport",
        "udp.dstport",
        "bfd.sta",
        "bfd.detect_time_multiplier",
        "bfd.desired_min_tx_interval",
        "bfd.required_min_rx_interval",
    ];

    fn parse(line: &str) -> Option<WireBfd> {
        let f: Vec<&str> = line.split(',').collect();
        let [ttl, sport, dport, sta, mult, tx, rx] = f.as_slice() else {
            return None;
        };
        Some(WireBfd {
            ttl: ttl.parse().ok()?,
            src_port: sport.parse().ok()?,
            dst_port: dport.parse().ok()?,
            state: parse_maybe_hex(sta)?,
            detect_mult: mult.parse().ok()?,
            desired_min_tx_us: tx.parse().ok()?,
            required_min_rx_us: rx.parse().ok()?,
        })
    }
}

/// tshark prints bit fields such as `bfd.sta` in hex (`0x03`).
fn parse_maybe_hex(text: &str) -> Option<u8> {
    match text.strip_prefix("0x") {
        Some(hex) => u8::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `dumpcap` on one interface for the whole test, classic pcap in the lab
/// directory (kept when a test fails), for evidence with tshark. Optional:
/// without Wireshark's dumpcap the test runs uncaptured.
pub fn capture(lab: &Lab, ns: &Netns, ifname: &str) -> Option<Capture> {
    if !Path::new(DUMPCAP).exists() {
        eprintln!("no {DUMPCAP} (package wireshark-common): no capture of {ifname}");
        return None;
    }
    let dir = lab.subdir("pcap");
    let file = dir.join(format!("{}-{ifname}.pcap", ns.name));
    let mut cmd = ns.command(DUMPCAP);
    cmd.args(["-q", "-P", "-i", ifname, "-w"]).arg(&file);
    let daemon = Daemon::spawn(lab, "dumpcap", cmd, &dir.join("dumpcap.log"));
    // dumpcap writes the pcap header once it listens on the interface.
    lab.wait(
        "dumpcap to start",
        Duration::from_secs(10),
        || match std::fs::metadata(&file) {
            Ok(m) if m.len() >= 24 => Ok(()),
            other => Err(format!("{}: {other:?}", file.display())),
        },
    );
    Some(Capture { file, daemon })
}

/// One BFD-protected BGP session between hybridlab and a real peer over
/// one veth link: hybridlab on side A, the peer on side B.
pub struct BfdPair<'a> {
    pub lab: &'a Lab,
    pub hl: &'a Hybridlab,
    /// hybridlab's name for the neighbour.
    pub neighbor: &'a str,
    pub hl_ns: &'a Netns,
    pub peer_ns: &'a Netns,
    pub link: &'a Link,
    pub peer: &'a dyn PeerView,
}

/// What one cut showed.
#[derive(Clone, Copy, Debug)]
pub struct Trial {
    /// hybridlab's BFD `last_change_unix_ms` minus [`CutInstants::hybridlab_cut_ms`].
    pub hybridlab_ms: i64,
    /// The peer's logged Up → Down minus [`CutInstants::peer_cut_ms`], when
    /// it logged one.
    pub peer_ms: Option<i64>,
    /// hybridlab's BGP `last_change_unix_ms` minus its BFD one.
    pub bgp_after_bfd_ms: i64,
}

impl BfdPair<'_> {
    /// hybridlab's BFD session and BGP session, both on `Ok`.
    fn views(&self) -> Result<(Value, Value), String> {
        Ok((
            self.hl.bfd_session(self.neighbor)?,
            self.hl.session(self.neighbor)?,
        ))
    }

    /// Waits until BFD is Up and BGP Established on both sides; returns
    /// hybridlab's BFD entry.
    pub fn wait_all_up(&self) -> Value {
        let label = self.peer.label();
        self.lab.wait(
            &format!("BFD Up and BGP Established on hybridlab and {label}"),
            RECOVER_WAIT,
            || {
                let (bfd, bgp) = self.views()?;
                let peer_bfd = self.peer.bfd_state()?;
                let peer_bgp = self.peer.bgp_established()?;
                if bfd["state"] == "Up"
                    && bgp["state"] == "Established"
                    && peer_bfd.as_deref() == Some("Up")
                    && peer_bgp
                {
                    Ok(bfd)
                } else {
                    Err(format!(
                        "hybridlab BFD {} BGP {}; {label} BFD {peer_bfd:?}, BGP {}",
                        bfd["state"],
                        bgp["state"],
                        self.peer.bgp_summary()?
                    ))
                }
            },
        )
    }

    /// Cuts the link after the session has run steadily for a while: cut
    /// right after coming Up, the last packets would be the handshake's,
    /// and FRR briefly recreates a new session with its local address.
    pub fn cut(&self, how: Cut) -> CutInstants {
        self.hold_up(SETTLE);
        let failures_before = self
            .hl
            .bfd_session(self.neighbor)
            .unwrap_or_else(|e| self.lab.fail(&e))["counters"]["failures"]
            .as_u64()
            .unwrap_or_else(|| self.lab.fail("no counters.failures"));
        let started_ms = unix_ms_now();
        match how {
            Cut::SilentLoss => {
                // The peer's end first, hybridlab's last: the instant
                // recorded after it is then within a process exit of the
                // moment hybridlab stopped hearing the peer.
                drop_input(self.peer_ns, &self.link.b_if);
                let peer_cut_ms = unix_ms_now();
                drop_input(self.hl_ns, &self.link.a_if);
                CutInstants {
                    started_ms,
                    peer_cut_ms,
                    hybridlab_cut_ms: unix_ms_now(),
                    failures_before,
                }
            }
            Cut::LinkDown => {
                self.hl_ns.ip(&["link", "set", &self.link.a_if, "down"]);
                let now = unix_ms_now();
                CutInstants {
                    started_ms,
                    peer_cut_ms: now,
                    hybridlab_cut_ms: now,
                    failures_before,
                }
            }
        }
    }

    pub fn restore(&self, how: Cut) -> u64 {
        let at = unix_ms_now();
        match how {
            Cut::SilentLoss => {
                undrop_input(self.hl_ns);
                undrop_input(self.peer_ns);
            }
            Cut::LinkDown => self.hl_ns.ip(&["link", "set", &self.link.a_if, "up"]),
        }
        at
    }

    /// After a cut: hybridlab's BFD leaves Up within detection time plus
    /// one interval, its BGP session drops at once with Cease / BFD Down
    /// and sits in Idle, and the peer's BFD is no longer Up.
    pub fn observe_down(&self, how: Cut, at: CutInstants) -> Trial {
        let label = self.peer.label();
        let (bfd, bgp) = self.lab.wait(
            "hybridlab to see BFD go down and drop BGP",
            DETECT_WAIT,
            || {
                let (bfd, bgp) = self.views()?;
                let changed = bfd["last_change_unix_ms"].as_u64().unwrap_or(0);
                if bfd["state"] != "Up" && changed >= at.started_ms && bgp["state"] != "Established"
                {
                    Ok((bfd, bgp))
                } else {
                    Err(format!("BFD {bfd}\nBGP {bgp}"))
                }
            },
        );
        let bfd_ms = bfd["last_change_unix_ms"]
            .as_u64()
            .unwrap_or_else(|| self.lab.fail(&format!("no last_change_unix_ms: {bfd}")));
        let hybridlab_ms = bfd_ms as i64 - at.hybridlab_cut_ms as i64;
        let bound = (DETECTION_MS + INTERVAL_MS + CUT_TOLERANCE_MS) as i64;
        assert!(
            hybridlab_ms <= bound,
            "{how:?}: hybridlab detected after {hybridlab_ms} ms > {bound} ms \
             (detection {DETECTION_MS} + interval {INTERVAL_MS} + tolerance {CUT_TOLERANCE_MS}): {bfd}"
        );
        if how == Cut::SilentLoss {
            // The last packet before the cut came at most one interval
            // earlier, so the detection time cannot have run out sooner.
            let floor = (DETECTION_MS - INTERVAL_MS - CUT_TOLERANCE_MS * 2) as i64;
            assert!(
                hybridlab_ms >= floor,
                "{how:?}: hybridlab detected after only {hybridlab_ms} ms < {floor} ms: {bfd}"
            );
            assert_eq!(bfd["state"], "Down", "{bfd}");
            assert_eq!(
                bfd["last_down_cause"], "detection time expired",
                "{how:?}: {bfd}"
            );
        }

        // BGP is bound to BFD (docs/topology.md): down at once, with
        // NOTIFICATION Cease / BFD Down (RFC 9384), then Idle.
        let bgp_ms = bgp["last_change_unix_ms"]
            .as_u64()
            .unwrap_or_else(|| self.lab.fail(&format!("no last_change_unix_ms: {bgp}")));
        let bgp_after_bfd_ms = bgp_ms as i64 - bfd_ms as i64;
        assert!(
            bgp_after_bfd_ms.abs() <= BGP_FOLLOWS_BFD_MS,
            "BGP went down {bgp_after_bfd_ms} ms after BFD (allowed ±{BGP_FOLLOWS_BFD_MS})\n\
             BFD {bfd}\nBGP {bgp}"
        );
        assert_eq!(bgp["state"], "Idle", "{bgp}");
        assert_eq!(bgp["idle_reason"], "bfd down", "{bgp}");
        assert_eq!(bgp["last_notification_sent"]["code"], 6, "{bgp}");
        assert_eq!(bgp["last_notification_sent"]["subcode"], 10, "{bgp}");
        assert_eq!(bfd["holding_bgp"], true, "{bfd}");
        assert_eq!(
            bfd["counters"]["failures"],
            at.failures_before + 1,
            "one failure counted: {bfd}"
        );

        let peer_state = self.lab.wait(
            &format!("{label} to see BFD go down and drop BGP"),
            DETECT_WAIT,
            || {
                let state = self.peer.bfd_state()?;
                let bgp_up = self.peer.bgp_established()?;
                if state.as_deref() != Some("Up") && !bgp_up {
                    Ok(state)
                } else {
                    Err(format!(
                        "{label} BFD {state:?}, BGP {}",
                        self.peer.bgp_summary()?
                    ))
                }
            },
        );
        let peer_ms = self
            .peer
            .bfd_down_logged(at.started_ms)
            .map(|t| t as i64 - at.peer_cut_ms as i64);
        eprintln!(
            "{how:?} ({label}): hybridlab BFD down after {hybridlab_ms} ms, BGP {bgp_after_bfd_ms:+} ms \
             later; {label} BFD now {peer_state:?}, logged down after {peer_ms:?} ms"
        );
        Trial {
            hybridlab_ms,
            peer_ms,
            bgp_after_bfd_ms,
        }
    }

    /// BFD Up and BGP Established on hybridlab, BFD Up at the peer, for
    /// all of `period`.
    pub fn hold_up(&self, period: Duration) {
        let label = self.peer.label();
        self.lab.hold(
            &format!("BFD Up and BGP Established at hybridlab, BFD Up at {label}"),
            period,
            || {
                let (bfd, bgp) = self.views()?;
                let peer_bfd = self.peer.bfd_state()?;
                if bfd["state"] == "Up"
                    && bgp["state"] == "Established"
                    && peer_bfd.as_deref() == Some("Up")
                {
                    Ok(())
                } else {
                    Err(format!("BFD {bfd}\nBGP {bgp}\n{label} BFD {peer_bfd:?}"))
                }
            },
        );
    }

    /// While the link is cut, hybridlab's BGP session stays Idle: it is
    /// held there until BFD is Up again.
    pub fn hold_idle(&self, period: Duration) {
        self.lab.hold(
            "hybridlab's BGP session held Idle while BFD is down",
            period,
            || {
                let (bfd, bgp) = self.views()?;
                if bfd["state"] != "Up"
                    && bfd["holding_bgp"] == true
                    && bgp["state"] == "Idle"
                    && bgp["idle_reason"] == "bfd down"
                    && bgp["bfd_state"] == bfd["state"]
                {
                    Ok(())
                } else {
                    Err(format!("BFD {bfd}\nBGP {bgp}"))
                }
            },
        );
    }

    /// After a restore: BFD comes Up, and only then BGP Established, on
    /// both sides.
    pub fn observe_recovery(&self, restored_ms: u64) {
        self.wait_all_up();
        let (bfd, bgp) = self.views().unwrap_or_else(|e| self.lab.fail(&e));
        let bfd_up = bfd["last_change_unix_ms"].as_u64().unwrap_or(0);
        let bgp_up = bgp["last_change_unix_ms"].as_u64().unwrap_or(0);
        assert!(
            bfd_up >= restored_ms,
            "BFD Up at {bfd_up} is older than the restore at {restored_ms}: {bfd}"
        );
        assert!(
            bgp_up >= bfd_up,
            "BGP Established at {bgp_up}, before BFD Up at {bfd_up}\nBFD {bfd}\nBGP {bgp}"
        );
        assert_eq!(bfd["holding_bgp"], false, "{bfd}");
        assert_eq!(bgp["bfd_state"], "Up", "{bgp}");
    }

    /// The agreed interval is the one on the wire: over a few seconds both
    /// directions average 75–100 % of 300 ms (jitter, RFC 5880 §6.8.7).
    /// hybridlab's `counters` count both.
    pub fn check_wire_rate(&self) {
        let counters = |b: &Value| {
            (
                b["counters"]["sent"].as_u64().unwrap_or(0),
                b["counters"]["received"].as_u64().unwrap_or(0),
            )
        };
        let fetch = || {
            self.hl
                .bfd_session(self.neighbor)
                .unwrap_or_else(|e| self.lab.fail(&e))
        };
        let before = fetch();
        let start = std::time::Instant::now();
        // Real daemons send on their own clocks: the window is wall time.
        self.lab.hold("BFD to stay Up", Duration::from_secs(4), || {
            let b = self.hl.bfd_session(self.neighbor)?;
            if b["state"] == "Up" {
                Ok(())
            } else {
                Err(b.to_string())
            }
        });
        let after = fetch();
        let elapsed_ms = start.elapsed().as_millis() as u64;
        let ((sent0, received0), (sent1, received1)) = (counters(&before), counters(&after));
        for (what, n) in [
            ("sent", sent1.saturating_sub(sent0)),
            ("received", received1.saturating_sub(received0)),
        ] {
            let mean = elapsed_ms.checked_div(n).unwrap_or(u64::MAX);
            assert!(
                (200..=330).contains(&mean),
                "{what}: {n} packets in {elapsed_ms} ms, one per {mean} ms\nbefore {before}\nafter {after}"
            );
        }
        assert_eq!(after["state"], "Up", "{after}");
    }

    /// hybridlab's packets on the wire follow RFC 5881: to port 3784 from a
    /// source port in 49152–65535 with TTL 255 (§4, §5), and once Up they
    /// advertise 300 ms × 3. Ends the capture.
    pub fn check_wire(&self, capture: Option<Capture>) {
        let Some(capture) = capture else {
            return;
        };
        let file = capture.file.clone();
        let Some(packets) = capture.bfd_packets_from(&self.link.a4) else {
            return;
        };
        let up: Vec<&WireBfd> = packets.iter().filter(|p| p.state == 3).collect();
        assert!(
            up.len() >= 10,
            "{} BFD packets from hybridlab in {}, {} in Up",
            packets.len(),
            file.display(),
            up.len()
        );
        for p in &packets {
            assert!(
                p.ttl == 255 && p.dst_port == 3784 && p.src_port >= 49152,
                "{p:?} in {}",
                file.display()
            );
        }
        eprintln!(
            "{} BFD packets from hybridlab in {}, {} in Up",
            packets.len(),
            file.display(),
            up.len()
        );
        for p in up {
            assert_eq!(
                (p.detect_mult, p.desired_min_tx_us, p.required_min_rx_us),
                (3, 300_000, 300_000),
                "{p:?} in {}",
                file.display()
            );
        }
    }

    /// Cut, check the fall, restore, check the return.
    pub fn trial(&self, how: Cut, hold: Duration) -> Trial {
        let at = self.cut(how);
        let trial = self.observe_down(how, at);
        if !hold.is_zero() {
            self.hold_idle(hold);
        }
        let restored = self.restore(how);
        self.observe_recovery(restored);
        trial
    }
}

/// A peer that hears AdminDown leaves Up on the next packet; one that
/// times out needs at least detection time minus one interval (600 ms).
pub const SIGNALLED_WITHIN_MS: u64 = 450;

/// Stops hybridlab (SIGTERM) and waits for the peer to log its BFD session
/// Up → Down; asserts it came within [`SIGNALLED_WITHIN_MS`] of the stop,
/// so it was signalled, not detected. Returns the delay.
pub fn stop_and_wait_peer_down(lab: &Lab, hl: Hybridlab, peer: &dyn PeerView) -> u64 {
    let label = peer.label();
    let stopped_ms = unix_ms_now();
    drop(hl);
    let logged = lab.wait(
        &format!("{label} to log BFD Up -> Down"),
        DETECT_WAIT,
        || {
            peer.bfd_down_logged(stopped_ms)
                .ok_or_else(|| format!("{label} BFD {:?}", peer.bfd_state()))
        },
    );
    let after = logged.saturating_sub(stopped_ms);
    assert!(
        after <= SIGNALLED_WITHIN_MS,
        "{label} saw BFD go down {after} ms after hybridlab stopped: \
         a timeout, not AdminDown (allowed {SIGNALLED_WITHIN_MS} ms)"
    );
    after
}

/// `min … median … max` of a set of figures, in milliseconds.
pub fn summary(figures: &[i64]) -> String {
    let mut sorted = figures.to_vec();
    sorted.sort_unstable();
    let (Some(min), Some(max)) = (sorted.first(), sorted.last()) else {
        return "no figures".to_string();
    };
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 0 {
        (sorted[mid - 1] + sorted[mid]) as f64 / 2.0
    } else {
        sorted[mid] as f64
    };
    format!("min {min} median {median} max {max} ms")
}

/// The Unix milliseconds of a log line's leading local-time stamp:
/// FRR's `2026/11/26 09:24:00.486` or BIRD's `2026-11-26 09:24:00.594`.
pub fn log_line_unix_ms(line: &str) -> Option<u64> {
    let stamp = line.get(..23)?;
    let b = stamp.as_bytes();
    let num =
        |range: std::ops::Range<usize>| -> Option<i64> { stamp.get(range)?.parse::<i64>().ok() };
    if !matches!(b.get(4), Some(b'/' | b'-'))
        || b.get(10) != Some(&b' ')
        || b.get(19) != Some(&b'.')
    {
        return None;
    }
    let days = days_from_civil(num(0..4)?, num(5..7)?, num(8..10)?);
    let secs = days * 86_400 + num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?
        - local_utc_offset_secs();
    u64::try_from(secs * 1000 + num(20..23)?).ok()
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The daemons log local time: `date +%z` says how far it is from UTC.
pub fn local_utc_offset_secs() -> i64 {
    static OFFSET: OnceLock<i64> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        let out = run_ok(Command::new("date").arg("+%z"));
        let z = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let hours: i64 = z.get(1..3).and_then(|h| h.parse().ok()).unwrap_or(0);
        let minutes: i64 = z.get(3..5).and_then(|m| m.parse().ok()).unwrap_or(0);
        sign * (hours * 3600 + minutes * 60)
    })
}

/// The stamp of the first line of `log` at or after `after_ms` that
/// `matches`.
pub fn first_logged(log: &Path, after_ms: u64, matches: impl Fn(&str) -> bool) -> Option<u64> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .filter(|l| matches(l))
        .filter_map(log_line_unix_ms)
        .find(|&t| t >= after_ms)
}
